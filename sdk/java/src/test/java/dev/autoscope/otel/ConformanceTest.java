package dev.autoscope.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.sdk.trace.samplers.SamplingDecision;
import io.opentelemetry.sdk.trace.samplers.SamplingResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs every case of the conformance vectors (conformance/v1/cases.jsonl, made by the Rust runtime)
 * and asserts every expected field. Where the trace id is a W3C id, the case also runs through
 * {@link AutoscopeSampler#shouldSample} with the tracestate as the W3C propagator reads it.
 */
class ConformanceTest {
    static final Path VECTORS = Path.of("..", "..", "conformance", "v1");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, Policy> POLICIES = new HashMap<>();
    private static final AtomicInteger CASES = new AtomicInteger();
    private static final AtomicInteger THROUGH_SHOULD_SAMPLE = new AtomicInteger();

    @TestFactory
    Stream<DynamicTest> everyCase() throws IOException {
        List<String> lines =
                Files.readAllLines(VECTORS.resolve("cases.jsonl"), StandardCharsets.UTF_8);
        assertTrue(lines.size() >= 1921, "expected the 1,921 cases of v1, found " + lines.size());
        List<DynamicTest> tests = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (String line : lines) {
            JsonNode testCase = JSON.readTree(line);
            String id = testCase.get("id").textValue();
            assertTrue(ids.add(id), "duplicate case id " + id);
            tests.add(DynamicTest.dynamicTest(id, () -> check(testCase)));
        }
        return tests.stream();
    }

    @AfterAll
    static void everyCaseRan() {
        assertEquals(1921, CASES.get(), "cases checked");
        // Cases with a kind, a W3C trace id and a tracestate the propagator keeps as written.
        assertTrue(
                THROUGH_SHOULD_SAMPLE.get() >= 600,
                "cases also run through shouldSample: " + THROUGH_SHOULD_SAMPLE.get());
    }

    private static Policy policy(String name) {
        synchronized (POLICIES) {
            return POLICIES.computeIfAbsent(
                    name, n -> Policy.load(VECTORS.resolve("policies").resolve(n + ".json")));
        }
    }

    private static void check(JsonNode testCase) {
        String id = testCase.get("id").textValue();
        JsonNode span = testCase.get("span");
        JsonNode expect = testCase.get("expect");
        String service = span.get("service").textValue();
        AutoscopeSampler sampler =
                AutoscopeSampler.of(policy(testCase.get("policy").textValue()), service);
        String name = span.get("name").textValue();
        SpanKind kind = kind(span.get("kind"));
        Attributes attributes = attributes(span.get("attributes"));
        byte[] traceId = traceIdBytes(span.get("trace_id"));
        String traceState = span.get("tracestate").textValue();

        long randomness = Consistent.randomness(traceId, traceState);
        Decision decision = sampler.decide(service, name, kind, attributes, randomness);

        assertEquals(expect.get("sampled").booleanValue(), decision.sampled(), id + ": sampled");
        JsonNode rule = expect.get("rule");
        assertEquals(rule.isNull() ? null : rule.textValue(), decision.rule(), id + ": rule");
        assertEquals(
                expect.get("randomness").textValue(),
                Consistent.hex14(decision.randomness()),
                id + ": randomness");
        assertEquals(
                expect.get("threshold").textValue(),
                Consistent.hex14(decision.threshold()),
                id + ": threshold");
        JsonNode th = expect.get("th");
        assertEquals(th.isNull() ? null : th.textValue(), decision.th(), id + ": th");
        assertEquals(
                Double.doubleToLongBits(expect.get("adjusted_count").doubleValue()),
                Double.doubleToLongBits(decision.adjustedCount()),
                id + ": adjusted_count " + decision.adjustedCount());
        CASES.incrementAndGet();

        // OpenTelemetry Java carries a W3C trace id as 32 lowercase hex digits: 16 id bytes, or
        // an id that trace files write as such text. Every span there has a kind.
        String traceIdHex =
                traceId.length == 16
                        ? HexFormat.of().formatHex(traceId)
                        : new String(traceId, StandardCharsets.ISO_8859_1);
        if (kind != null && io.opentelemetry.api.trace.TraceId.isValid(traceIdHex)) {
            checkShouldSample(
                    id, sampler, traceIdHex, traceState, name, kind, attributes, decision);
        }
    }

    /** The same decision through the SDK's Sampler interface, tracestate written included. */
    private static void checkShouldSample(
            String id,
            AutoscopeSampler sampler,
            String traceIdHex,
            String traceState,
            String name,
            SpanKind kind,
            Attributes attributes,
            Decision expected) {
        Map<String, String> headers = new HashMap<>();
        headers.put("traceparent", "00-" + traceIdHex + "-00f067aa0ba902b7-01");
        if (!traceState.isEmpty()) {
            headers.put("tracestate", traceState);
        }
        Context parent =
                W3CTraceContextPropagator.getInstance()
                        .extract(Context.root(), headers, MapGetter.INSTANCE);
        TraceState parsed = Span.fromContext(parent).getSpanContext().getTraceState();
        String otAsWritten = traceState.isEmpty() ? null : Consistent.otValue(traceState);
        if (!java.util.Objects.equals(otAsWritten, parsed.get("ot"))) {
            return; // the W3C propagator dropped or rewrote the header; the raw case covers it
        }
        SamplingResult result =
                sampler.shouldSample(parent, traceIdHex, name, kind, attributes, List.of());
        SamplingDecision decision = result.getDecision();
        assertEquals(
                expected.sampled(),
                decision == SamplingDecision.RECORD_AND_SAMPLE,
                id + ": shouldSample");
        if (expected.sampled()) {
            String ot = result.getUpdatedTraceState(parsed).get("ot");
            assertTrue(ot != null && ot.startsWith("th:" + expected.th()), id + ": ot = " + ot);
            assertTrue(
                    ot.equals("th:" + expected.th())
                            || ot.charAt(3 + expected.th().length()) == ';',
                    id + ": ot = " + ot);
        } else {
            assertEquals(
                    parsed,
                    result.getUpdatedTraceState(parsed),
                    id + ": tracestate of a dropped span");
        }
        THROUGH_SHOULD_SAMPLE.incrementAndGet();
    }

    static SpanKind kind(JsonNode kind) {
        if (kind.isNull()) {
            return null;
        }
        return SpanKind.valueOf(kind.textValue().toUpperCase(java.util.Locale.ROOT));
    }

    /** The case's attributes; the first of several with one key is the one that counts. */
    static Attributes attributes(JsonNode list) {
        AttributesBuilder builder = Attributes.builder();
        Set<String> seen = new HashSet<>();
        for (JsonNode attribute : list) {
            String key = attribute.get("key").textValue();
            if (!seen.add(key)) {
                continue;
            }
            JsonNode value = attribute.get("value");
            switch (attribute.get("type").textValue()) {
                case "string":
                    builder.put(AttributeKey.stringKey(key), value.textValue());
                    break;
                case "int":
                    assertTrue(
                            value.isIntegralNumber() && value.canConvertToLong(),
                            key + ": 64-bit int");
                    builder.put(AttributeKey.longKey(key), value.longValue());
                    break;
                case "bool":
                    builder.put(AttributeKey.booleanKey(key), value.booleanValue());
                    break;
                case "double":
                    builder.put(
                            AttributeKey.doubleKey(key),
                            value.isTextual()
                                    ? Double.parseDouble(value.textValue())
                                    : value.doubleValue());
                    break;
                default:
                    throw new AssertionError("unknown attribute type " + attribute);
            }
        }
        return builder.build();
    }

    static byte[] traceIdBytes(JsonNode traceId) {
        if (traceId.has("hex")) {
            return HexFormat.of().parseHex(traceId.get("hex").textValue());
        }
        return traceId.get("text").textValue().getBytes(StandardCharsets.UTF_8);
    }

    private enum MapGetter implements TextMapGetter<Map<String, String>> {
        INSTANCE;

        @Override
        @SuppressWarnings("deprecation") // required by older API versions
        public Iterable<String> keys(Map<String, String> carrier) {
            return carrier.keySet();
        }

        @Override
        public String get(Map<String, String> carrier, String key) {
            return carrier == null ? null : carrier.get(key);
        }
    }
}
