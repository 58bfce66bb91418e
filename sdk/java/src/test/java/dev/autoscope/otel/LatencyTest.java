package dev.autoscope.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The latency override: the tracker alone, and through the processor. */
class LatencyTest {
    @TempDir Path folder;

    private static final long MS = 1_000_000L;

    @Test
    void trackerFlagsDurationsAboveMedianPlusThresholdTimesSpread() {
        // window 8, threshold 3, 4 samples before it fires, spread floor 0.5 ms.
        LatencyTracker tracker = new LatencyTracker(new Policy.Latency(8, 3.0, 4, 0.5), 1);
        for (int i = 0; i < 4; i++) {
            assertFalse(tracker.observe(0, "q", MS), "no limit before min_samples");
        }
        // median 1 ms, MAD 0: spread is the 0.5 ms floor, the limit 2.5 ms.
        assertFalse(tracker.observe(0, "q", 2 * MS + MS / 2));
        assertTrue(tracker.observe(0, "q", 2 * MS + MS / 2 + 1));
        assertFalse(tracker.observe(-1, "other", 50 * MS), "a name has its own window");
    }

    @Test
    void spreadFollowsTheMedianAbsoluteDeviation() {
        LatencyTracker tracker = new LatencyTracker(new Policy.Latency(4, 2.0, 4, 0.0), 0);
        // 10, 20, 30, 40 ms: median (upper) 30, deviations 20, 10, 0, 10 -> MAD 10,
        // spread 14.826 ms, limit 30 + 29.652 = 59.652 ms.
        for (long ms : new long[] {10, 20, 30, 40}) {
            tracker.observe(-1, "q", ms * MS);
        }
        assertFalse(tracker.observe(-1, "q", 59_652_000L));
        assertTrue(tracker.observe(-1, "q", 59_652_001L));
    }

    @Test
    void processorExportsOutliersAndTemplatesShareAWindow() {
        String policy =
                """
                {"version": 2, "generator": {"tool": "test", "version": "1"},
                 "target_reduction": 0.9,
                 "default_action": {"action": "sample", "rate": 0.0},
                 "overrides": {"keep_errors": true,
                               "latency": {"window": 16, "threshold": 3, "min_samples": 4}},
                 "rules": [{"id": "order", "match": [{"template": "GET /orders/{id}"}],
                            "action": {"action": "sample", "rate": 0.0}}]}
                """;
        AutoscopeSampler sampler =
                AutoscopeSampler.load(Policies.write(folder, "policy.json", policy), "shop");
        InMemorySpanExporter exporter = InMemorySpanExporter.create();
        AutoscopeSpanProcessor processor =
                AutoscopeSpanProcessor.wrap(SimpleSpanProcessor.create(exporter), sampler);
        try (SdkTracerProvider provider =
                SdkTracerProvider.builder()
                        .setSampler(sampler)
                        .addSpanProcessor(processor)
                        .build()) {
            Tracer tracer = provider.get("test");
            for (int i = 0; i < 8; i++) {
                timed(tracer, "GET /orders/" + i, MS);
                timed(tracer, "cache " + i, MS);
            }
            // A new order id shares the template's window; a new cache name has none yet.
            timed(tracer, "GET /orders/99", 50 * MS);
            timed(tracer, "cache 99", 50 * MS);
            timed(tracer, "GET /orders/100", 2 * MS);
            // Read before close: the in-memory exporter forgets its spans at shutdown.
            List<String> names =
                    exporter.getFinishedSpanItems().stream()
                            .map(SpanData::getName)
                            .collect(Collectors.toList());
            assertEquals(List.of("GET /orders/99"), names);
            assertEquals(1, processor.keptByLatency());
            assertEquals(18, processor.dropped());
        }
    }

    private static void timed(Tracer tracer, String name, long nanos) {
        long start = TimeUnit.MILLISECONDS.toNanos(1_700_000_000_000L);
        Span span =
                tracer.spanBuilder(name).setStartTimestamp(start, TimeUnit.NANOSECONDS).startSpan();
        span.end(start + nanos, TimeUnit.NANOSECONDS);
    }
}
