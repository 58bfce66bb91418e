package dev.autoscope.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The configuration a user writes ({@code otel.traces.sampler=autoscope}, {@code
 * otel.traces.sampler.arg=policy.json}) through the SDK's autoconfiguration, with the SPI
 * registrations of this jar.
 */
class AutoconfigureTest {
    @TempDir Path folder;

    private static OpenTelemetrySdk sdk(Map<String, String> extra) {
        Map<String, String> properties = new HashMap<>();
        properties.put("otel.traces.exporter", "memory");
        properties.put("otel.metrics.exporter", "none");
        properties.put("otel.logs.exporter", "none");
        properties.putAll(extra);
        return AutoConfiguredOpenTelemetrySdk.builder()
                .addPropertiesSupplier(() -> properties)
                .disableShutdownHook()
                .build()
                .getOpenTelemetrySdk();
    }

    @Test
    void samplerAndProcessorFromTwoProperties() {
        Path policy = Policies.write(folder, "policy.json", Policies.dropAllButKeepMe(true));
        try (OpenTelemetrySdk sdk =
                sdk(
                        Map.of(
                                "otel.traces.sampler", "autoscope",
                                "otel.traces.sampler.arg", policy.toString(),
                                "otel.resource.attributes", "service.name=checkout"))) {
            AutoscopeSampler sampler =
                    assertInstanceOf(
                            AutoscopeSampler.class, sdk.getSdkTracerProvider().getSampler());
            assertEquals("checkout", sampler.service());

            Tracer tracer = sdk.getTracer("test");
            Span root = tracer.spanBuilder("GET /orders").startSpan();
            try (Scope r = root.makeCurrent()) {
                tracer.spanBuilder("cache").startSpan().end();
                Span failing = tracer.spanBuilder("connect").startSpan();
                failing.setStatus(StatusCode.ERROR);
                failing.end();
                tracer.spanBuilder("pay").startSpan().end();
            }
            root.end();
            sdk.getSdkTracerProvider().forceFlush().join(10, java.util.concurrent.TimeUnit.SECONDS);
            List<String> names =
                    MemoryExporterProvider.latest().getFinishedSpanItems().stream()
                            .map(SpanData::getName)
                            .sorted()
                            .collect(Collectors.toList());
            // "pay" is kept by the rule scoped to service checkout; "cache" is dropped.
            assertEquals(List.of("GET /orders", "connect", "pay"), names);
        }
    }

    @Test
    void serviceNameFromTheResourceBeatsTheDefault() {
        Path policy = Policies.write(folder, "policy.json", Policies.dropAllButKeepMe(true));
        try (OpenTelemetrySdk sdk =
                sdk(
                        Map.of(
                                "otel.traces.sampler", "autoscope",
                                "otel.traces.sampler.arg", policy.toString(),
                                "otel.service.name", "inventory"))) {
            AutoscopeSampler sampler =
                    assertInstanceOf(
                            AutoscopeSampler.class, sdk.getSdkTracerProvider().getSampler());
            assertEquals("inventory", sampler.service());
        }
    }

    @Test
    void missingArgumentIsAClearError() {
        ConfigurationException error =
                assertThrows(
                        ConfigurationException.class,
                        () -> sdk(Map.of("otel.traces.sampler", "autoscope")));
        assertTrue(error.getMessage().contains("otel.traces.sampler.arg"), error.getMessage());
    }

    @Test
    void invalidPolicyIsAClearErrorNamingTheFile() {
        Path policy = Policies.write(folder, "broken.json", "{\"version\": 2,");
        ConfigurationException error =
                assertThrows(
                        ConfigurationException.class,
                        () ->
                                sdk(
                                        Map.of(
                                                "otel.traces.sampler",
                                                "autoscope",
                                                "otel.traces.sampler.arg",
                                                policy.toString())));
        assertTrue(error.getMessage().contains(policy.toString()), error.getMessage());
    }

    @Test
    void otherSamplersAreLeftAlone() {
        try (OpenTelemetrySdk sdk = sdk(Map.of("otel.traces.sampler", "always_on"))) {
            Tracer tracer = sdk.getTracer("test");
            tracer.spanBuilder("anything").startSpan().end();
            sdk.getSdkTracerProvider().forceFlush().join(10, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(1, MemoryExporterProvider.latest().getFinishedSpanItems().size());
        }
    }
}
