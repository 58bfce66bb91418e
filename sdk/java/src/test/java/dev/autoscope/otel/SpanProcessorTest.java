package dev.autoscope.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link AutoscopeSpanProcessor} with the SDK's in-memory exporter. */
class SpanProcessorTest {
    @TempDir Path folder;

    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
    private SdkTracerProvider provider;
    private AutoscopeSpanProcessor processor;

    private Tracer tracer(boolean keepErrors) {
        Path path = Policies.write(folder, "policy.json", Policies.dropAllButKeepMe(keepErrors));
        AutoscopeSampler sampler = AutoscopeSampler.load(path, "checkout");
        processor = AutoscopeSpanProcessor.wrap(SimpleSpanProcessor.create(exporter), sampler);
        provider =
                SdkTracerProvider.builder()
                        .setResource(Resource.getDefault())
                        .setSampler(sampler)
                        .addSpanProcessor(processor)
                        .build();
        return provider.get("test");
    }

    @AfterEach
    void close() {
        if (provider != null) {
            provider.close();
        }
    }

    private List<String> exportedNames() {
        return exporter.getFinishedSpanItems().stream()
                .map(SpanData::getName)
                .collect(Collectors.toList());
    }

    /** Every exported span whose parent ran in this process has that parent exported too. */
    private void assertNoMissingLocalParent() {
        List<SpanData> spans = exporter.getFinishedSpanItems();
        Set<String> exported = spans.stream().map(SpanData::getSpanId).collect(Collectors.toSet());
        for (SpanData span : spans) {
            SpanContext parent = span.getParentSpanContext();
            if (parent.isValid() && !parent.isRemote()) {
                assertTrue(
                        exported.contains(parent.getSpanId()),
                        span.getName() + " misses its local parent");
            }
            assertTrue(span.getSpanContext().isSampled(), span.getName() + " exported unsampled");
        }
    }

    @Test
    void errorSpanAndEveryLocalAncestorAreExported() {
        Tracer tracer = tracer(true);
        Span root = tracer.spanBuilder("GET /orders").startSpan();
        try (Scope r = root.makeCurrent()) {
            Span healthy = tracer.spanBuilder("cache").startSpan();
            healthy.end();
            Span db = tracer.spanBuilder("SELECT orders").startSpan();
            try (Scope d = db.makeCurrent()) {
                Span failing = tracer.spanBuilder("connect").startSpan();
                assertFalse(
                        failing.getSpanContext().isSampled(), "the policy drops it at its start");
                assertTrue(failing.isRecording(), "recorded so that its end is seen");
                failing.setStatus(StatusCode.ERROR, "refused");
                failing.end();
            }
            db.end();
        }
        root.end();

        assertEquals(List.of("connect", "SELECT orders", "GET /orders"), exportedNames());
        assertNoMissingLocalParent();
        assertEquals(1, processor.keptByError());
        assertEquals(2, processor.keptAsAncestor());
        assertEquals(1, processor.dropped());
        assertEquals(0, processor.waiting());
    }

    @Test
    void keptChildOfDroppedParentKeepsTheParent() {
        Tracer tracer = tracer(true);
        Span root = tracer.spanBuilder("GET /orders").startSpan();
        try (Scope r = root.makeCurrent()) {
            Span middle = tracer.spanBuilder("handler").startSpan();
            try (Scope m = middle.makeCurrent()) {
                Span kept = tracer.spanBuilder("keep-me").startSpan();
                assertTrue(kept.getSpanContext().isSampled());
                assertEquals("th:0", kept.getSpanContext().getTraceState().get("ot"));
                kept.end();
            }
            middle.end();
        }
        root.end();
        assertEquals(List.of("keep-me", "handler", "GET /orders"), exportedNames());
        assertNoMissingLocalParent();
        assertEquals(0, processor.waiting());
    }

    @Test
    void droppedSpansWithoutErrorsStayDropped() {
        Tracer tracer = tracer(true);
        Span root = tracer.spanBuilder("GET /health").startSpan();
        try (Scope r = root.makeCurrent()) {
            tracer.spanBuilder("check").startSpan().end();
        }
        root.end();
        assertEquals(List.of(), exportedNames());
        assertEquals(2, processor.dropped());
    }

    @Test
    void serviceScopedRuleUsesTheSamplersService() {
        Tracer tracer = tracer(true);
        tracer.spanBuilder("pay").startSpan().end();
        assertEquals(List.of("pay"), exportedNames());
    }

    @Test
    void withoutKeepErrorsDroppedSpansAreNotRecorded() {
        Tracer tracer = tracer(false);
        Span root = tracer.spanBuilder("GET /orders").startSpan();
        assertFalse(root.isRecording());
        try (Scope r = root.makeCurrent()) {
            Span failing = tracer.spanBuilder("connect").startSpan();
            failing.setStatus(StatusCode.ERROR);
            failing.end();
        }
        root.end();
        assertEquals(List.of(), exportedNames());
    }

    @Test
    void remoteParentIsNotWaitedFor() {
        Tracer tracer = tracer(true);
        SpanContext remote =
                SpanContext.createFromRemoteParent(
                        "4bf92f3577b34da6a3ce929d0e0e4736",
                        "00f067aa0ba902b7",
                        TraceFlags.getDefault(),
                        TraceState.getDefault());
        Context parent = Context.root().with(Span.wrap(remote));
        Span failing = tracer.spanBuilder("GET /orders").setParent(parent).startSpan();
        failing.setStatus(StatusCode.ERROR);
        failing.end();
        assertEquals(List.of("GET /orders"), exportedNames());
        assertNoMissingLocalParent();
        assertEquals(0, processor.waiting());
    }
}
