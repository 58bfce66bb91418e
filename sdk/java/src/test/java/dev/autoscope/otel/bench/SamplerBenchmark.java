package dev.autoscope.otel.bench;

import dev.autoscope.otel.AutoscopeSampler;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.opentelemetry.sdk.trace.samplers.SamplingResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Decision cost per span: the Autoscope sampler on a policy of 70 rules against the SDK's {@code
 * traceIdRatioBased} and {@code parentBased(traceIdRatioBased)} on the same spans, in the same run.
 * Run with {@code scripts/sdk/java.sh bench} (adds {@code -prof gc} for allocation per decision).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class SamplerBenchmark {
    private static final List<String> TRACE_IDS =
            List.of(
                    "4bf92f3577b34da6a3ce929d0e0e4736",
                    "cfb3f64bf11539edafa06f71e7e293a0",
                    "e584fd8f168d2022984e1c7c87be7c6a",
                    "1a8735a26670ae8ec85b330f299b51d4");

    private AutoscopeSampler autoscope;
    private Sampler ratio;
    private Sampler parentBasedRatio;
    private String[] traceIds;
    private int next;
    private final Context root = Context.root();

    /** A local parent sampled by Autoscope: its tracestate is {@code ot=th:8}. */
    private final Context sampledParent =
            Context.root()
                    .with(
                            Span.wrap(
                                    SpanContext.create(
                                            "4bf92f3577b34da6a3ce929d0e0e4736",
                                            "00f067aa0ba902b7",
                                            TraceFlags.getSampled(),
                                            TraceState.builder().put("ot", "th:8").build())));

    private final Attributes attributes =
            Attributes.of(
                    AttributeKey.stringKey("http.request.method"), "GET",
                    AttributeKey.stringKey("server.address"), "payments");

    @Setup
    public void setup() throws IOException {
        StringBuilder rules = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            rules.append(
                    String.format(
                            "{\"id\": \"exact-%d\", \"match\": [{\"exact\": \"GET /api/v1/resource%d\"}],"
                                    + " \"action\": {\"action\": \"sample\", \"rate\": 0.5}},",
                            i, i));
        }
        for (int i = 0; i < 10; i++) {
            rules.append(
                    String.format(
                            "{\"id\": \"template-%d\", \"service\": \"checkout\", \"match\": [{\"template\":"
                                    + " \"GET /api/v2/things%d/{id}\"}], \"action\": {\"action\": \"sample\", \"rate\": 0.5}},",
                            i, i));
        }
        for (int i = 0; i < 10; i++) {
            rules.append(
                    String.format(
                            "{\"id\": \"client-%d\", \"kind\": \"client\", \"match\": [{\"exact\": \"GET\"}],"
                                    + " \"attributes\": [{\"key\": \"server.address\", \"exact\": \"host%d\"}],"
                                    + " \"action\": {\"action\": \"sample\", \"rate\": 0.5}},",
                            i, i));
        }
        for (int i = 0; i < 5; i++) {
            rules.append(
                    String.format(
                            "{\"id\": \"prefix-%d\", \"match\": [{\"prefix\": \"/static%d/\"}],"
                                    + " \"action\": {\"action\": \"sample\", \"rate\": 0.5}},",
                            i, i));
            rules.append(
                    String.format(
                            "{\"id\": \"glob-%d\", \"match\": [{\"glob\": \"*.ext%d\"}],"
                                    + " \"action\": {\"action\": \"sample\", \"rate\": 0.5}},",
                            i, i));
        }
        rules.setLength(rules.length() - 1);
        String policy =
                "{\"version\": 2, \"generator\": {\"tool\": \"bench\", \"version\": \"1\"},"
                        + " \"target_reduction\": 0.5, \"default_action\": {\"action\": \"sample\", \"rate\": 0.5},"
                        + " \"rules\": ["
                        + rules
                        + "]}";
        Path file = Files.createTempFile("autoscope-bench", ".json");
        Files.writeString(file, policy);
        autoscope = AutoscopeSampler.load(file, "checkout");
        Files.delete(file);
        ratio = Sampler.traceIdRatioBased(0.5);
        parentBasedRatio = Sampler.parentBased(Sampler.traceIdRatioBased(0.5));
        traceIds = TRACE_IDS.toArray(new String[0]);
    }

    private String traceId() {
        next = (next + 1) & 3;
        return traceIds[next];
    }

    @Benchmark
    public SamplingResult autoscopeExactName() {
        return autoscope.shouldSample(
                root, traceId(), "GET /api/v1/resource17", SpanKind.SERVER, attributes, List.of());
    }

    /** The exact path under a parent this sampler kept, with the tracestate it writes. */
    @Benchmark
    public TraceState autoscopeExactNameUnderSampledParent() {
        SamplingResult result =
                autoscope.shouldSample(
                        sampledParent,
                        traceId(),
                        "GET /api/v1/resource17",
                        SpanKind.SERVER,
                        attributes,
                        List.of());
        return result.getUpdatedTraceState(PARENT_STATE);
    }

    private static final TraceState PARENT_STATE = TraceState.builder().put("ot", "th:8").build();

    @Benchmark
    public SamplingResult autoscopeTemplateName() {
        return autoscope.shouldSample(
                root,
                traceId(),
                "GET /api/v2/things7/12345",
                SpanKind.SERVER,
                attributes,
                List.of());
    }

    @Benchmark
    public SamplingResult autoscopeAttributeCondition() {
        return autoscope.shouldSample(
                root, traceId(), "GET", SpanKind.CLIENT, attributes, List.of());
    }

    @Benchmark
    public SamplingResult autoscopePrefixName() {
        return autoscope.shouldSample(
                root, traceId(), "/static4/app.js", SpanKind.SERVER, attributes, List.of());
    }

    /** The last of 5 globs {@code *.extN}. */
    @Benchmark
    public SamplingResult autoscopeGlobName() {
        return autoscope.shouldSample(
                root, traceId(), "file.ext4", SpanKind.INTERNAL, attributes, List.of());
    }

    @Benchmark
    public SamplingResult autoscopeNoRule() {
        return autoscope.shouldSample(
                root, traceId(), "POST /unknown/path", SpanKind.SERVER, attributes, List.of());
    }

    @Benchmark
    public SamplingResult sdkTraceIdRatioBased() {
        return ratio.shouldSample(
                root, traceId(), "GET /api/v1/resource17", SpanKind.SERVER, attributes, List.of());
    }

    @Benchmark
    public SamplingResult sdkParentBasedTraceIdRatioBased() {
        return parentBasedRatio.shouldSample(
                root, traceId(), "GET /api/v1/resource17", SpanKind.SERVER, attributes, List.of());
    }
}
