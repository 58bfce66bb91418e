package autoscope

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// benchPolicy writes a policy shaped like an analyzed service's: 200 exact names, 40
// templates, 10 prefixes, 5 globs, some service-scoped, some with conditions.
func benchPolicy(tb testing.TB) string {
	tb.Helper()
	var rules []map[string]any
	add := func(id string, matcher map[string]string, extra map[string]any) {
		rule := map[string]any{"id": id, "match": []map[string]string{matcher}, "action": map[string]any{"action": "sample", "rate": 0.25}}
		for k, v := range extra {
			rule[k] = v
		}
		rules = append(rules, rule)
	}
	for i := range 200 {
		extra := map[string]any{}
		if i%3 == 0 {
			extra["service"] = "checkout"
		}
		add(fmt.Sprintf("exact-%d", i), map[string]string{"exact": fmt.Sprintf("GET /api/v1/resource%d", i)}, extra)
	}
	add("get-payments", map[string]string{"exact": "GET"}, map[string]any{"kind": "client",
		"attributes": []map[string]string{{"key": "server.address", "exact": "payments"}}})
	add("get", map[string]string{"exact": "GET"}, nil)
	for i := range 40 {
		add(fmt.Sprintf("template-%d", i), map[string]string{"template": fmt.Sprintf("/api/v2/items%d/{id}/detail", i)}, nil)
	}
	for i := range 10 {
		add(fmt.Sprintf("prefix-%d", i), map[string]string{"prefix": fmt.Sprintf("/static%d/", i)}, nil)
	}
	for i := range 5 {
		add(fmt.Sprintf("glob-%d", i), map[string]string{"glob": fmt.Sprintf("*.ext%d", i)}, nil)
	}
	policy := map[string]any{"version": 2, "generator": map[string]string{"tool": "bench", "version": "1"},
		"target_reduction": 0.5, "default_action": map[string]any{"action": "sample", "rate": 0.1}, "rules": rules}
	data, err := json.Marshal(policy)
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "policy.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

type benchSpan struct {
	name       string
	kind       trace.SpanKind
	attributes []attribute.KeyValue
}

var benchSpans = map[string]benchSpan{
	"exact":      {name: "GET /api/v1/resource150", kind: trace.SpanKindServer},
	"conditions": {name: "GET", kind: trace.SpanKindClient, attributes: []attribute.KeyValue{attribute.String("http.request.method", "GET"), attribute.String("server.address", "payments")}},
	"template":   {name: "/api/v2/items39/12345/detail", kind: trace.SpanKindServer},
	"prefix":     {name: "/static9/app.js", kind: trace.SpanKindServer},
	"glob":       {name: "file.ext4", kind: trace.SpanKindInternal},
	"default":    {name: "SELECT orders", kind: trace.SpanKindClient},
}

// traceIDs are fixed pseudo-random ids cycled through, so decisions vary as in traffic.
func traceIDs() []trace.TraceID {
	ids := make([]trace.TraceID, 1024)
	state := uint64(0x9e3779b97f4a7c15)
	for i := range ids {
		for j := range ids[i] {
			state ^= state << 13
			state ^= state >> 7
			state ^= state << 17
			ids[i][j] = byte(state)
		}
	}
	return ids
}

func benchmarkSampler(b *testing.B, sampler sdktrace.Sampler, span benchSpan, parent context.Context) {
	ids := traceIDs()
	params := sdktrace.SamplingParameters{ParentContext: parent, Name: span.name, Kind: span.kind, Attributes: span.attributes}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		params.TraceID = ids[i&1023]
		_ = sampler.ShouldSample(params)
	}
}

// BenchmarkShouldSample compares the decision per span with the SDK's own samplers in
// the same run: go test -bench ShouldSample -benchmem ./autoscope
func BenchmarkShouldSample(b *testing.B) {
	sampler := MustLoad(benchPolicy(b), WithServiceName("checkout"))
	root := context.Background()
	for _, name := range []string{"exact", "conditions", "template", "prefix", "glob", "default"} {
		b.Run("autoscope/"+name, func(b *testing.B) { benchmarkSampler(b, sampler, benchSpans[name], root) })
	}
	// A local child whose parent carries the same th: the tracestate is reused.
	state, _ := trace.ParseTraceState("ot=th:c")
	parent := trace.ContextWithSpanContext(root, trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled, TraceState: state,
	}))
	b.Run("autoscope/exact-child", func(b *testing.B) { benchmarkSampler(b, sampler, benchSpans["exact"], parent) })
	b.Run("sdk/TraceIDRatioBased", func(b *testing.B) {
		benchmarkSampler(b, sdktrace.TraceIDRatioBased(0.25), benchSpans["exact"], root)
	})
	b.Run("sdk/ParentBased-TraceIDRatioBased", func(b *testing.B) {
		benchmarkSampler(b, sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.25)), benchSpans["exact"], root)
	})
}

// No decision allocates: the exact-name path for a root and for a child of a parent
// with the same th, and the condition, template, prefix, glob and no-match paths.
func TestDecisionsDoNotAllocate(t *testing.T) {
	sampler := MustLoad(benchPolicy(t), WithServiceName("checkout"))
	state, _ := trace.ParseTraceState("ot=th:c")
	child := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled, TraceState: state,
	}))
	ids := traceIDs()
	check := func(what string, parent context.Context, span benchSpan) {
		params := sdktrace.SamplingParameters{ParentContext: parent, Name: span.name, Kind: span.kind, Attributes: span.attributes}
		i := 0
		allocs := testing.AllocsPerRun(1000, func() {
			params.TraceID = ids[i&1023]
			i++
			_ = sampler.ShouldSample(params)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per decision", what, allocs)
		}
	}
	check("exact-child", child, benchSpans["exact"])
	for name, span := range benchSpans {
		check(name, context.Background(), span)
	}
}
