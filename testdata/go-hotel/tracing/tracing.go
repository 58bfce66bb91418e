// Package tracing sets up the OpenTelemetry tracer provider shared by the services.
package tracing

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
)

// Tracer returns the named tracer of the global provider.
func Tracer(service string) trace.Tracer {
	return otel.Tracer(fmt.Sprintf("gohotel/%s", service)) // expect: call Tracer gohotel/{}
}

// Shutdown flushes spans; failures are only reported.
func Shutdown(ctx context.Context, flush func(context.Context) error) {
	if err := flush(ctx); err != nil { // expect: handler if-err swallow
		_ = err // shutting down anyway
	}
}
