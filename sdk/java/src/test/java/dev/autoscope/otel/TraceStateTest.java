package dev.autoscope.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.opentelemetry.api.trace.TraceState;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The {@code ot} entry a sampled span gets from its parent's tracestate. */
class TraceStateTest {
    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "|0|ot=th:0",
                "ot=th:8|0|ot=th:0",
                "ot=th:8|c|ot=th:c",
                "ot=rv:0123456789abcd|8|ot=th:8;rv:0123456789abcd",
                "ot=th:4;rv:0123456789abcd;x:1|8|ot=th:8;rv:0123456789abcd;x:1",
                "vendor=v,ot=th:4|8|ot=th:8,vendor=v",
            })
    void thresholdReplacesTheParentsAndKeepsTheRest(String parent, String th, String expected) {
        TraceState parentState = parse(parent);
        TraceState updated = AutoscopeSampler.withThreshold(parentState, th);
        assertEquals(expected, render(updated));
    }

    @ParameterizedTest
    @CsvSource({"ot=th:8", "ot=th:0"})
    void aParentWithOnlyAThresholdGivesTheSharedState(String parent) throws Exception {
        java.nio.file.Path folder = java.nio.file.Files.createTempDirectory("autoscope");
        AutoscopeSampler sampler =
                AutoscopeSampler.load(
                        Policies.write(folder, "p.json", Policies.dropAllButKeepMe(true)), "x");
        var result =
                sampler.shouldSample(
                        io.opentelemetry.context.Context.root(),
                        "4bf92f3577b34da6a3ce929d0e0e4736",
                        "keep-me",
                        io.opentelemetry.api.trace.SpanKind.INTERNAL,
                        io.opentelemetry.api.common.Attributes.empty(),
                        java.util.List.of());
        TraceState fromEmpty = result.getUpdatedTraceState(TraceState.getDefault());
        assertEquals("ot=th:0", render(fromEmpty));
        assertSame(fromEmpty, result.getUpdatedTraceState(parse(parent)));
    }

    private static TraceState parse(String header) {
        var builder = TraceState.builder();
        if (header != null) {
            String[] members = header.split(",");
            for (int i = members.length - 1; i >= 0; i--) {
                String[] kv = members[i].split("=", 2);
                builder.put(kv[0], kv[1]);
            }
        }
        return builder.build();
    }

    /** Entries sorted by key (the W3C order of members is the SDK builder's business). */
    private static String render(TraceState state) {
        return new java.util.TreeMap<>(state.asMap())
                .entrySet().stream()
                        .map(entry -> entry.getKey() + "=" + entry.getValue())
                        .collect(java.util.stream.Collectors.joining(","));
    }
}
