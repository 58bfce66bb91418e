// Package telemetry sets up the OpenTelemetry SDK the way both services use it: an OTLP
// over HTTP exporter configured from the standard OTEL_EXPORTER_OTLP_* environment, a
// batch span processor, the service name from OTEL_SERVICE_NAME or the caller, and W3C
// trace context propagation.
package telemetry

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
)

// Setup installs a global TracerProvider and returns the function that flushes and
// stops it. Extra options go after the defaults, so a caller's WithSampler wins.
func Setup(ctx context.Context, service string, extra ...sdktrace.TracerProviderOption) (func(context.Context) error, error) {
	exporter, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("otlp exporter: %w", err)
	}
	res, err := resource.Merge(
		resource.NewSchemaless(semconv.ServiceName(service)),
		// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, when set, win.
		resource.Environment(),
	)
	if err != nil {
		return nil, fmt.Errorf("resource: %w", err)
	}
	options := []sdktrace.TracerProviderOption{
		sdktrace.WithBatcher(exporter),
		sdktrace.WithResource(res),
	}
	if sampler := samplerFromEnvironment(); sampler != nil {
		options = append(options, sdktrace.WithSampler(sampler))
	}
	provider := sdktrace.NewTracerProvider(append(options, extra...)...)
	otel.SetTracerProvider(provider)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(
		propagation.TraceContext{}, propagation.Baggage{}))
	return provider.Shutdown, nil
}
