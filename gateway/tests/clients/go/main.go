// Command sendspans sends a few small traces to an OTLP endpoint with the OpenTelemetry
// Go SDK and writes the ids of every span it sent to a JSON file.
//
// Usage: sendspans grpc|http HOST:PORT TRACES OUT.json
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

type sentSpan struct {
	SpanID       string `json:"span_id"`
	ParentSpanID string `json:"parent_span_id"`
	Name         string `json:"name"`
	Error        bool   `json:"error"`
}

type sentTrace struct {
	TraceID string     `json:"trace_id"`
	Spans   []sentSpan `json:"spans"`
}

// recorder remembers every span that ended.
type recorder struct {
	mu    sync.Mutex
	spans []sdktrace.ReadOnlySpan
}

func (r *recorder) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (r *recorder) OnEnd(s sdktrace.ReadOnlySpan) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.spans = append(r.spans, s)
}
func (r *recorder) Shutdown(context.Context) error   { return nil }
func (r *recorder) ForceFlush(context.Context) error { return nil }

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: sendspans grpc|http HOST:PORT TRACES OUT.json")
		os.Exit(2)
	}
	protocol, endpoint, out := os.Args[1], os.Args[2], os.Args[4]
	count, err := strconv.Atoi(os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, "TRACES:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	var exporter sdktrace.SpanExporter
	if protocol == "grpc" {
		exporter, err = otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(endpoint), otlptracegrpc.WithInsecure())
	} else {
		exporter, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(endpoint), otlptracehttp.WithInsecure())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "exporter:", err)
		os.Exit(1)
	}
	rec := &recorder{}
	provider := sdktrace.NewTracerProvider(
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "go-hotel"))),
		sdktrace.WithSyncer(exporter),
		sdktrace.WithSpanProcessor(rec),
	)
	tracer := provider.Tracer("autoscope-e2e")
	for i := 0; i < count; i++ {
		ctx, root := tracer.Start(ctx, "GET /reserve", trace.WithSpanKind(trace.SpanKindServer))
		_, rates := tracer.Start(ctx, "rates.lookup")
		rates.End()
		ctx2, book := tracer.Start(ctx, "booking.create")
		_, db := tracer.Start(ctx2, "db.insert")
		db.End()
		if i%3 == 0 {
			book.SetStatus(codes.Error, "room taken")
		}
		book.End()
		root.End()
	}
	if err := provider.Shutdown(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "shutdown:", err)
		os.Exit(1)
	}
	byTrace := map[string]*sentTrace{}
	var order []string
	for _, s := range rec.spans {
		id := s.SpanContext().TraceID().String()
		t, ok := byTrace[id]
		if !ok {
			t = &sentTrace{TraceID: id}
			byTrace[id] = t
			order = append(order, id)
		}
		parent := ""
		if s.Parent().IsValid() {
			parent = s.Parent().SpanID().String()
		}
		t.Spans = append(t.Spans, sentSpan{
			SpanID:       s.SpanContext().SpanID().String(),
			ParentSpanID: parent,
			Name:         s.Name(),
			Error:        s.Status().Code == codes.Error,
		})
	}
	var traces []sentTrace
	for _, id := range order {
		traces = append(traces, *byTrace[id])
	}
	data, err := json.Marshal(map[string][]sentTrace{"traces": traces})
	if err != nil {
		fmt.Fprintln(os.Stderr, "json:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, out+":", err)
		os.Exit(1)
	}
}
