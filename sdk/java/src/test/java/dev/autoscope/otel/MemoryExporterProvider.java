package dev.autoscope.otel;

import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.autoconfigure.spi.traces.ConfigurableSpanExporterProvider;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.export.SpanExporter;

/** {@code otel.traces.exporter=memory} for tests: the SDK's in-memory exporter, shared. */
public final class MemoryExporterProvider implements ConfigurableSpanExporterProvider {
    static final InMemorySpanExporter EXPORTER = InMemorySpanExporter.create();

    @Override
    public SpanExporter createExporter(ConfigProperties config) {
        return EXPORTER;
    }

    @Override
    public String getName() {
        return "memory";
    }
}
