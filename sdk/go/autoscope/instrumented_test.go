package autoscope

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// The policy: keep the frontend's /ok endpoint and its calls to the backend, sample
// nothing else; errors are kept. otelhttp names a server span by its method alone when
// it starts (the route is known only after routing, when it renames the span), so the
// rule tells the endpoint by the url.path start attribute; a client span starts with no
// attributes at all, so the call rule has its name and kind only.
const instrumentedPolicy = `{"version": 2, "generator": {"tool": "test", "version": "1"},
 "target_reduction": 0.9, "default_action": {"action": "sample", "rate": 0.0},
 "rules": [
  {"id": "ok-endpoint", "service": "frontend", "match": [{"exact": "GET"}], "kind": "server",
   "attributes": [{"key": "url.path", "exact": "/ok"}], "action": {"action": "keep"}},
  {"id": "backend-call", "service": "frontend", "match": [{"exact": "HTTP GET"}], "kind": "client",
   "action": {"action": "keep"}}
 ]}`

// TestWithOtelhttp runs real otelhttp server and client instrumentation with the
// sampler and processor set on the provider, and checks what reaches the exporter.
func TestWithOtelhttp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(path, []byte(instrumentedPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	exporter := tracetest.NewInMemoryExporter()
	sampler := MustLoad(path, WithServiceName("frontend"))
	processor := NewProcessor(sampler, sdktrace.NewSimpleSpanProcessor(exporter))
	provider := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sampler),
		sdktrace.WithSpanProcessor(processor),
	)
	defer func() { _ = provider.Shutdown(context.Background()) }()
	propagators := otelhttp.WithPropagators(propagation.TraceContext{})
	tracing := otelhttp.WithTracerProvider(provider)

	backendMux := http.NewServeMux()
	backendMux.HandleFunc("GET /backend/ok", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	backendMux.HandleFunc("GET /backend/fail", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	backend := httptest.NewServer(otelhttp.NewHandler(backendMux, "backend", tracing, propagators))
	defer backend.Close()

	client := &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport, tracing, propagators)}
	call := func(r *http.Request, path string) int {
		request, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, backend.URL+path, nil)
		response, err := client.Do(request)
		if err != nil {
			t.Error(err)
			return http.StatusBadGateway
		}
		_ = response.Body.Close()
		return response.StatusCode
	}
	frontendMux := http.NewServeMux()
	frontendMux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(call(r, "/backend/ok"))
	})
	frontendMux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
		call(r, "/backend/fail") // degrades gracefully: answers 200 anyway
		_, _ = io.WriteString(w, "degraded")
	})
	frontendMux.HandleFunc("GET /quiet", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	frontend := httptest.NewServer(otelhttp.NewHandler(frontendMux, "frontend", tracing, propagators))
	defer frontend.Close()

	for _, endpoint := range []string{"/ok", "/fail", "/quiet"} {
		response, err := http.Get(frontend.URL + endpoint)
		if err != nil {
			t.Fatal(err)
		}
		_ = response.Body.Close()
	}
	_ = provider.ForceFlush(context.Background())

	spans := exporter.GetSpans()
	var got []string
	for _, s := range spans {
		failed := ""
		if s.Status.Code == codes.Error {
			failed = " (error)"
		}
		got = append(got, s.SpanKind.String()+" "+s.Name+failed)
	}
	sort.Strings(got)
	t.Logf("exported: %q", got)
	want := []string{
		// /ok: the endpoint and its backend call, kept by rules (the backend's span,
		// at rate 0, is not).
		"client HTTP GET", "server GET /ok",
		// /fail: the call, kept by its rule; the backend's span at its end, as it
		// failed; the frontend's span, dropped at its start, as the call's ancestor.
		"client HTTP GET (error)", "server GET /backend/fail (error)", "server GET /fail",
	}
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("exported %q, want %q", got, want)
	}
	assertNoMissingLocalParent(t, spans)
	for _, s := range spans {
		if s.Name == "GET /ok" && s.SpanContext.TraceState().Get("ot") != "th:0" {
			t.Errorf("kept span's tracestate %q, want ot=th:0", s.SpanContext.TraceState())
		}
	}
	if stats := processor.Stats(); stats.Waiting != 0 || stats.KeptByError != 1 || stats.KeptAsAncestor != 1 {
		t.Errorf("stats %+v, want one span kept by error, one as ancestor, none waiting", stats)
	}
}
