package dev.autoscope.otel;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.opentelemetry.sdk.trace.samplers.SamplingDecision;
import io.opentelemetry.sdk.trace.samplers.SamplingResult;
import java.nio.file.Path;
import java.util.List;

/**
 * Autoscope's span-level sampler: decides each span at its start exactly as the Autoscope runtime
 * does (the policy's rules on the span's name, kind and start attributes and the service;
 * consistent probability sampling on the trace's randomness, the {@code rv} of the parent's {@code
 * ot} tracestate entry or else the trace id's low 56 bits) and writes {@code th} into the {@code
 * ot} tracestate entry of the spans it samples. When the policy keeps error spans or latency
 * outliers, a dropped span is still recorded ({@code RECORD_ONLY}) so that {@link
 * AutoscopeSpanProcessor} can see how it ends.
 *
 * <p>With the Java agent or SDK autoconfiguration, {@code -Dotel.traces.sampler=autoscope
 * -Dotel.traces.sampler.arg=policy.json} selects it; in code, {@link #load(Path, String)}.
 */
public final class AutoscopeSampler implements Sampler {
    private final Policy policy;
    private final Decider decider;
    private final String service;
    private final String origin;

    /** The outcomes of each rule by index, then of the default action, made once. */
    private final Outcome[] outcomes;

    private final Outcome defaultOutcome;

    private AutoscopeSampler(Policy policy, String service, String origin) {
        this.policy = policy;
        this.decider = new Decider(policy);
        this.service = service;
        this.origin = origin;
        SamplingResult dropped =
                policy.keepsSpansAtTheirEnd() ? SamplingResult.recordOnly() : SamplingResult.drop();
        this.outcomes = new Outcome[decider.rules.size()];
        for (Decider.CompiledRule rule : decider.rules) {
            outcomes[rule.index] = new Outcome(rule.threshold, dropped);
        }
        this.defaultOutcome = new Outcome(decider.defaultThreshold, dropped);
    }

    /**
     * The sampler of a policy file for the service named {@code serviceName} (the resource's {@code
     * service.name}, which rules with a {@code service} compare with).
     *
     * @throws PolicyException naming the file when it cannot be read or is invalid
     */
    public static AutoscopeSampler load(Path policy, String serviceName) {
        return new AutoscopeSampler(Policy.load(policy), serviceName, policy.toString());
    }

    /**
     * The sampler of a policy file for the service that OpenTelemetry's standard configuration
     * names: system property {@code otel.service.name}, else the environment's {@code
     * OTEL_SERVICE_NAME}, else {@code service.name} in {@code otel.resource.attributes} / {@code
     * OTEL_RESOURCE_ATTRIBUTES}, else {@code unknown_service:java}.
     */
    public static AutoscopeSampler load(Path policy) {
        return load(policy, ServiceName.fromStandardConfiguration());
    }

    /** The sampler of an already loaded policy for a service. */
    public static AutoscopeSampler of(Policy policy, String serviceName) {
        return new AutoscopeSampler(policy, serviceName, "<policy>");
    }

    /** This sampler for another service (the same policy). */
    public AutoscopeSampler forService(String serviceName) {
        return serviceName.equals(service)
                ? this
                : new AutoscopeSampler(policy, serviceName, origin);
    }

    /** The policy this sampler applies. */
    public Policy policy() {
        return policy;
    }

    /** The service rules are matched against. */
    public String service() {
        return service;
    }

    @Override
    public SamplingResult shouldSample(
            Context parentContext,
            String traceId,
            String name,
            SpanKind spanKind,
            Attributes attributes,
            List<LinkData> parentLinks) {
        Decider.CompiledRule rule = decider.ruleFor(service, name, spanKind, attributes);
        Outcome outcome = rule == null ? defaultOutcome : outcomes[rule.index];
        if (outcome.threshold == 0) {
            return outcome.sampled;
        }
        long randomness = randomness(parentContext, traceId);
        return randomness >= outcome.threshold ? outcome.sampled : outcome.dropped;
    }

    /** The decision with everything that went into it (for diagnostics and tests). */
    public Decision decide(
            Context parentContext,
            String traceId,
            String name,
            SpanKind spanKind,
            Attributes attributes) {
        return decide(service, name, spanKind, attributes, randomness(parentContext, traceId));
    }

    /** The decision of a span of any service at a given randomness. */
    Decision decide(
            String serviceName,
            String name,
            SpanKind spanKind,
            Attributes attributes,
            long randomness) {
        Decider.CompiledRule rule = decider.ruleFor(serviceName, name, spanKind, attributes);
        long threshold = rule == null ? decider.defaultThreshold : rule.threshold;
        return new Decision(
                randomness >= threshold,
                rule == null ? null : rule.rule.id(),
                randomness,
                threshold);
    }

    private static long randomness(Context parentContext, String traceId) {
        String ot = Span.fromContext(parentContext).getSpanContext().getTraceState().get("ot");
        if (ot != null) {
            long rv = Consistent.randomnessFromOt(ot);
            if (rv != Consistent.NO_RV) {
                return rv;
            }
        }
        return Consistent.traceIdRandomness(traceId);
    }

    @Override
    public String getDescription() {
        return "AutoscopeSampler{policy=" + origin + ", service=" + service + "}";
    }

    @Override
    public String toString() {
        return getDescription();
    }

    /** What a rule (or the default action) decides: its threshold and its two results. */
    private static final class Outcome {
        final long threshold;
        final SamplingResult sampled;
        final SamplingResult dropped;

        Outcome(long threshold, SamplingResult dropped) {
            this.threshold = threshold;
            String th = Consistent.encodeTh(threshold);
            this.sampled = th == null ? dropped : new Sampled(th);
            this.dropped = dropped;
        }
    }

    /** RECORD_AND_SAMPLE, writing {@code th} into the {@code ot} entry of the tracestate. */
    private static final class Sampled implements SamplingResult {
        private final String th;

        /** The tracestate of a span whose parent has none: the common case, made once. */
        private final TraceState fromEmpty;

        Sampled(String th) {
            this.th = th;
            this.fromEmpty = withThreshold(TraceState.getDefault(), th);
        }

        @Override
        public SamplingDecision getDecision() {
            return SamplingDecision.RECORD_AND_SAMPLE;
        }

        @Override
        public Attributes getAttributes() {
            return Attributes.empty();
        }

        @Override
        public TraceState getUpdatedTraceState(TraceState parentTraceState) {
            if (parentTraceState.isEmpty() || holdsOnlyAThreshold(parentTraceState)) {
                // Below a sampled span of this process the parent's state is just `ot=th:…`:
                // the result is the same as from an empty state, and nothing is allocated.
                return fromEmpty;
            }
            return withThreshold(parentTraceState, th);
        }

        private static boolean holdsOnlyAThreshold(TraceState state) {
            if (state.size() != 1) {
                return false;
            }
            String ot = state.get("ot");
            return ot != null && ot.startsWith("th:") && ot.indexOf(';') < 0;
        }
    }

    /**
     * {@code parent} with {@code th} set in its {@code ot} entry, the entry's other parts and the
     * other entries kept (an {@code ot} value the W3C rules reject leaves the parent's state).
     */
    static TraceState withThreshold(TraceState parent, String th) {
        StringBuilder value = new StringBuilder("th:").append(th);
        String ot = parent.get("ot");
        if (ot != null) {
            for (String part : ot.split(";", -1)) {
                if (!part.isEmpty() && !part.startsWith("th:")) {
                    value.append(';').append(part);
                }
            }
        }
        TraceState updated = parent.toBuilder().put("ot", value.toString()).build();
        return value.toString().equals(updated.get("ot")) ? updated : parent;
    }
}
