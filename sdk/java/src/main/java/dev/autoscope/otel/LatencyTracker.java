package dev.autoscope.otel;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The policy's latency override, as the runtime applies it: a span is an outlier when its duration
 * exceeds {@code median + threshold * spread} of the recent durations of its kind, {@code spread =
 * max(1.4826 * MAD, median / 20, min_spread_ms)}, over a sliding window of {@code window}
 * durations, once {@code min_samples} were seen; the limit is recomputed every {@code window / 2}
 * durations. Durations of spans whose deciding rule matched by an exact name or a template share
 * that matcher's window; other spans have a window per name. Not thread-safe: callers hold a lock.
 */
final class LatencyTracker {
    private static final double MAD_SCALE = 1.4826;
    private static final double MIN_SPREAD_OF_MEDIAN = 0.05;
    private static final double NANOS_PER_MS = 1_000_000.0;

    /** Windows kept at most (per name ones beyond it are not tracked). */
    static final int MAX_TRACKED_KEYS = 100_000;

    private final int capacity;
    private final int minSamples;
    private final double threshold;
    private final double minSpreadNanos;
    private final int recomputeEvery;
    private final Window[] byMatcher;
    private final Map<String, Window> byName = new HashMap<>();
    private long[] scratch = new long[0];

    LatencyTracker(Policy.Latency config, int matcherCount) {
        this.capacity = (int) Math.min(Math.max(config.window(), 1), 1 << 20);
        this.minSamples = (int) Math.max(Math.min(config.minSamples(), Integer.MAX_VALUE), 1);
        this.threshold = config.threshold();
        this.minSpreadNanos = config.minSpreadMs() * NANOS_PER_MS;
        this.recomputeEvery = Math.max(capacity / 2, 1);
        this.byMatcher = new Window[matcherCount];
    }

    /**
     * Feeds a duration; whether it is an outlier against the window's limit before it.
     *
     * @param matcherId the deciding rule's exact or template matcher, or -1 (then by name)
     */
    boolean observe(int matcherId, String name, long durationNanos) {
        Window window;
        if (matcherId >= 0) {
            window = byMatcher[matcherId];
            if (window == null) {
                window = byMatcher[matcherId] = new Window();
            }
        } else {
            window = byName.get(name);
            if (window == null) {
                if (byName.size() >= MAX_TRACKED_KEYS) {
                    return false;
                }
                window = new Window();
                byName.put(name, window);
            }
        }
        return window.observe(Math.max(durationNanos, 0));
    }

    private final class Window {
        private long[] durations = new long[0];
        private int size;
        private int next;
        private int sinceRecompute;
        private boolean hasLimit;
        private long limit;

        boolean observe(long duration) {
            boolean outlier = hasLimit && duration > limit;
            if (size < capacity) {
                if (size == durations.length) {
                    durations = Arrays.copyOf(durations, Math.min(capacity, Math.max(8, size * 2)));
                }
                durations[size++] = duration;
            } else {
                durations[next] = duration;
                next = next + 1 == capacity ? 0 : next + 1;
            }
            sinceRecompute++;
            if (size >= minSamples && (!hasLimit || sinceRecompute >= recomputeEvery)) {
                limit = outlierLimit();
                hasLimit = true;
                sinceRecompute = 0;
            }
            return outlier;
        }

        private long outlierLimit() {
            if (scratch.length < size) {
                scratch = new long[capacity];
            }
            System.arraycopy(durations, 0, scratch, 0, size);
            long median = median(scratch, size);
            for (int i = 0; i < size; i++) {
                scratch[i] = Math.abs(durations[i] - median);
            }
            long mad = median(scratch, size);
            double spread =
                    Math.max(
                            Math.max(MAD_SCALE * mad, MIN_SPREAD_OF_MEDIAN * median),
                            minSpreadNanos);
            double limit = median + threshold * spread;
            return limit >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) limit;
        }
    }

    /** The element at index {@code size / 2} of the first {@code size} values, sorted. */
    private static long median(long[] values, int size) {
        Arrays.sort(values, 0, size);
        return values[size / 2];
    }
}
