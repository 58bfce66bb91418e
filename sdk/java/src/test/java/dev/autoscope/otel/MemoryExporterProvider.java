package dev.autoscope.otel;

import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.autoconfigure.spi.traces.ConfigurableSpanExporterProvider;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.export.SpanExporter;

/**
 * {@code otel.traces.exporter=memory} for tests: the SDK's in-memory exporter, a new one per SDK
 * (an SDK's shutdown stops its exporter), the latest in {@link #latest()}.
 */
public final class MemoryExporterProvider implements ConfigurableSpanExporterProvider {
    private static volatile InMemorySpanExporter latest;

    static InMemorySpanExporter latest() {
        return latest;
    }

    @Override
    public SpanExporter createExporter(ConfigProperties config) {
        latest = InMemorySpanExporter.create();
        return latest;
    }

    @Override
    public String getName() {
        return "memory";
    }
}
