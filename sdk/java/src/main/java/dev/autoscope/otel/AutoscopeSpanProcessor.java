package dev.autoscope.otel;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.DelegatingSpanData;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps what only the end of a span reveals, without buffering traces. It wraps the exporter's
 * processor (a batch or simple processor) and passes on sampled spans; and also a span that {@link
 * AutoscopeSampler} dropped (recorded, {@code RECORD_ONLY}) but that ends with error status (when
 * the policy keeps errors) or is a latency outlier by the policy's latency override (see {@link
 * LatencyTracker}; every span's duration feeds it), marked sampled; then every local ancestor of an
 * exported span when that ancestor ends (sampled children of unsampled parents included), so no
 * exported span misses a parent that ran in this process and ended after it. It holds only a set of
 * span ids waiting to be kept and the latency windows, never spans.
 */
public final class AutoscopeSpanProcessor implements SpanProcessor {
    /** Span ids held at most; beyond it an ancestor is not kept (see {@link #waitingOverflow}). */
    public static final int MAX_WAITING = 1 << 16;

    private final SpanProcessor next;
    private final boolean keepErrors;
    private final String service;
    private final Decider decider;

    /** Null without a latency override; guarded by itself. */
    private final LatencyTracker latency;

    /** Span ids (16 hex digits) of unsampled local ancestors of exported spans. */
    private final Set<String> waiting = new HashSet<>();

    /** {@code waiting.size()}, read without the lock: most spans end with nothing waiting. */
    private final AtomicInteger waitingSize = new AtomicInteger();

    private final AtomicLong keptByError = new AtomicLong();
    private final AtomicLong keptByLatency = new AtomicLong();
    private final AtomicLong keptAsAncestor = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong waitingOverflow = new AtomicLong();

    private AutoscopeSpanProcessor(SpanProcessor next, Policy policy, String service) {
        this.next = next;
        this.keepErrors = policy.keepErrors;
        this.service = service;
        this.decider = new Decider(policy);
        this.latency =
                policy.latency == null
                        ? null
                        : new LatencyTracker(policy.latency, decider.matcherCount());
    }

    /**
     * {@code next} (the exporter's processor) behind the overrides of the sampler's policy, for its
     * service.
     */
    public static AutoscopeSpanProcessor wrap(SpanProcessor next, AutoscopeSampler sampler) {
        return new AutoscopeSpanProcessor(next, sampler.policy(), sampler.service());
    }

    /** {@code next} behind the overrides of {@code policy}, for the spans of {@code service}. */
    public static AutoscopeSpanProcessor wrap(SpanProcessor next, Policy policy, String service) {
        return new AutoscopeSpanProcessor(next, policy, service);
    }

    @Override
    public void onStart(Context parentContext, ReadWriteSpan span) {
        next.onStart(parentContext, span);
        SpanContext own = span.getSpanContext();
        if (!own.isSampled()) {
            return;
        }
        // A sampled span under a local, unsampled parent: keep the parent when it ends.
        SpanContext parent = Span.fromContext(parentContext).getSpanContext();
        if (parent.isValid()
                && !parent.isRemote()
                && !parent.isSampled()
                && parent.getTraceId().equals(own.getTraceId())) {
            waitFor(parent.getSpanId());
        }
    }

    @Override
    public boolean isStartRequired() {
        return true;
    }

    @Override
    public void onEnd(ReadableSpan span) {
        boolean outlier = latencyOutlier(span);
        String id = span.getSpanContext().getSpanId();
        if (span.getSpanContext().isSampled()) {
            stopWaiting(id);
            next.onEnd(span);
            return;
        }
        boolean wasWaiting = stopWaiting(id);
        if (keepErrors && span.toSpanData().getStatus().getStatusCode() == StatusCode.ERROR) {
            keptByError.incrementAndGet();
        } else if (outlier) {
            keptByLatency.incrementAndGet();
        } else if (wasWaiting) {
            keptAsAncestor.incrementAndGet();
        } else {
            dropped.incrementAndGet();
            return;
        }
        SpanContext parent = span.getParentSpanContext();
        if (parent.isValid() && !parent.isRemote() && !parent.isSampled()) {
            waitFor(parent.getSpanId());
        }
        next.onEnd(new SampledView(span));
    }

    @Override
    public boolean isEndRequired() {
        return true;
    }

    /** Feeds the latency window of the span's kind; whether the span is an outlier. */
    private boolean latencyOutlier(ReadableSpan span) {
        if (latency == null) {
            return false;
        }
        String name = span.getName();
        Decider.Entry match = decider.winner(service, name, span.getKind(), span.getAttributes());
        int matcherId =
                match != null
                                && (match.matcher().kind == Matcher.Kind.EXACT
                                        || match.matcher().kind == Matcher.Kind.TEMPLATE)
                        ? match.matcherId()
                        : -1;
        synchronized (latency) {
            return latency.observe(matcherId, name, span.getLatencyNanos());
        }
    }

    @Override
    public CompletableResultCode shutdown() {
        return next.shutdown();
    }

    @Override
    public CompletableResultCode forceFlush() {
        return next.forceFlush();
    }

    /** Unsampled spans exported because they ended with error status. */
    public long keptByError() {
        return keptByError.get();
    }

    /** Unsampled spans exported as latency outliers. */
    public long keptByLatency() {
        return keptByLatency.get();
    }

    /** Unsampled spans exported as local ancestors of exported spans. */
    public long keptAsAncestor() {
        return keptAsAncestor.get();
    }

    /** Recorded, unsampled spans not exported. */
    public long dropped() {
        return dropped.get();
    }

    /**
     * Span ids waiting for their span to end (an ancestor that ended before its descendant, or
     * never ends in this process, stays here).
     */
    public int waiting() {
        return waitingSize.get();
    }

    /** Ancestors not kept because {@link #MAX_WAITING} ids were already waiting. */
    public long waitingOverflow() {
        return waitingOverflow.get();
    }

    private void waitFor(String spanId) {
        synchronized (waiting) {
            if (waiting.size() >= MAX_WAITING && !waiting.contains(spanId)) {
                waitingOverflow.incrementAndGet();
                return;
            }
            waiting.add(spanId);
            waitingSize.set(waiting.size());
        }
    }

    /** Whether {@code spanId} was waiting (and no longer is). */
    private boolean stopWaiting(String spanId) {
        if (waitingSize.get() == 0) {
            return false;
        }
        synchronized (waiting) {
            boolean was = waiting.remove(spanId);
            waitingSize.set(waiting.size());
            return was;
        }
    }

    @Override
    public String toString() {
        return "AutoscopeSpanProcessor{keepErrors="
                + keepErrors
                + ", latency="
                + (latency != null)
                + ", service="
                + service
                + ", next="
                + next
                + "}";
    }

    /** A recorded span as the exporter's processor sees a sampled one. */
    private static final class SampledView implements ReadableSpan {
        private final ReadableSpan span;
        private final SpanContext context;

        SampledView(ReadableSpan span) {
            this.span = span;
            SpanContext original = span.getSpanContext();
            this.context =
                    SpanContext.create(
                            original.getTraceId(),
                            original.getSpanId(),
                            TraceFlags.getSampled(),
                            original.getTraceState());
        }

        @Override
        public SpanContext getSpanContext() {
            return context;
        }

        @Override
        public SpanContext getParentSpanContext() {
            return span.getParentSpanContext();
        }

        @Override
        public String getName() {
            return span.getName();
        }

        @Override
        public SpanData toSpanData() {
            SpanContext sampled = context;
            return new DelegatingSpanData(span.toSpanData()) {
                @Override
                public SpanContext getSpanContext() {
                    return sampled;
                }
            };
        }

        @Override
        @Deprecated
        public io.opentelemetry.sdk.common.InstrumentationLibraryInfo
                getInstrumentationLibraryInfo() {
            return span.getInstrumentationLibraryInfo();
        }

        @Override
        public InstrumentationScopeInfo getInstrumentationScopeInfo() {
            return span.getInstrumentationScopeInfo();
        }

        @Override
        public boolean hasEnded() {
            return span.hasEnded();
        }

        @Override
        public long getLatencyNanos() {
            return span.getLatencyNanos();
        }

        @Override
        public SpanKind getKind() {
            return span.getKind();
        }

        @Override
        public <T> T getAttribute(AttributeKey<T> key) {
            return span.getAttribute(key);
        }

        @Override
        public Attributes getAttributes() {
            return span.getAttributes();
        }
    }
}
