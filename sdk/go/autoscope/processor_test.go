package autoscope

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// A policy that drops everything but spans named "kept".
const dropAllButKept = `{"version": 2, "generator": {"tool": "test", "version": "1"},
 "target_reduction": 0.9, "default_action": {"action": "sample", "rate": 0.0},
 "overrides": {"keep_errors": %s},
 "rules": [{"id": "kept", "match": [{"exact": "kept"}], "action": {"action": "keep"}}]}`

func writePolicy(t *testing.T, keepErrors string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(path, []byte(strings.Replace(dropAllButKept, "%s", keepErrors, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func newProvider(t *testing.T, keepErrors string) (*sdktrace.TracerProvider, *Processor, *tracetest.InMemoryExporter) {
	t.Helper()
	exporter := tracetest.NewInMemoryExporter()
	sampler := MustLoad(writePolicy(t, keepErrors), WithServiceName("svc"))
	processor := NewProcessor(sampler, sdktrace.NewSimpleSpanProcessor(exporter))
	provider := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sampler),
		sdktrace.WithSpanProcessor(processor),
	)
	t.Cleanup(func() { _ = provider.Shutdown(context.Background()) })
	return provider, processor, exporter
}

func exportedNames(spans tracetest.SpanStubs) []string {
	var names []string
	for _, s := range spans {
		names = append(names, s.Name)
	}
	sort.Strings(names)
	return names
}

// assertNoMissingLocalParent checks that every exported span's local parent was exported.
func assertNoMissingLocalParent(t *testing.T, spans tracetest.SpanStubs) {
	t.Helper()
	exported := map[trace.SpanID]bool{}
	for _, s := range spans {
		exported[s.SpanContext.SpanID()] = true
		if !s.SpanContext.IsSampled() {
			t.Errorf("%s exported without the sampled flag", s.Name)
		}
	}
	for _, s := range spans {
		if s.Parent.IsValid() && !s.Parent.IsRemote() && !exported[s.Parent.SpanID()] {
			t.Errorf("%s exported without its parent", s.Name)
		}
	}
}

func TestProcessorKeepsErrorSpansAndTheirAncestors(t *testing.T) {
	provider, processor, exporter := newProvider(t, "true")
	tracer := provider.Tracer("test")

	ctx, root := tracer.Start(context.Background(), "root")
	middleCtx, middle := tracer.Start(ctx, "middle")
	_, kept := tracer.Start(middleCtx, "kept")
	if !kept.SpanContext().IsSampled() || middle.SpanContext().IsSampled() || !middle.IsRecording() {
		t.Fatal("the sampler should sample kept and record the dropped middle")
	}
	if got := kept.SpanContext().TraceState().Get("ot"); got != "th:0" {
		t.Errorf("kept span's ot entry %q, want th:0", got)
	}
	kept.End()
	middle.End()
	_, quiet := tracer.Start(ctx, "quiet")
	quiet.End()
	failingCtx, failing := tracer.Start(ctx, "failing")
	_, underFailing := tracer.Start(failingCtx, "under-failing")
	underFailing.End()
	failing.SetStatus(codes.Error, "boom")
	failing.End()
	root.End()

	// A second trace where nothing is kept: nothing is exported, nothing waits.
	_, alone := tracer.Start(context.Background(), "alone")
	alone.End()

	spans := exporter.GetSpans()
	if got, want := strings.Join(exportedNames(spans), ","), "failing,kept,middle,root"; got != want {
		t.Errorf("exported %s, want %s", got, want)
	}
	assertNoMissingLocalParent(t, spans)
	stats := processor.Stats()
	want := ProcessorStats{KeptByError: 1, KeptAsAncestor: 2, Dropped: 3, Waiting: 0}
	if stats != want {
		t.Errorf("stats %+v, want %+v", stats, want)
	}
}

func TestProcessorDoesNotWaitForRemoteParents(t *testing.T) {
	provider, processor, exporter := newProvider(t, "true")
	remote := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1: 1, 15: 1}, SpanID: trace.SpanID{7: 9}, Remote: true,
	})
	ctx := trace.ContextWithRemoteSpanContext(context.Background(), remote)
	_, failing := provider.Tracer("test").Start(ctx, "failing")
	failing.SetStatus(codes.Error, "boom")
	failing.End()
	if got := exportedNames(exporter.GetSpans()); len(got) != 1 || got[0] != "failing" {
		t.Errorf("exported %v", got)
	}
	if stats := processor.Stats(); stats.Waiting != 0 || stats.KeptByError != 1 {
		t.Errorf("stats %+v", stats)
	}
}

func TestWithoutKeepErrorsDroppedSpansAreNotRecorded(t *testing.T) {
	provider, _, exporter := newProvider(t, "false")
	_, span := provider.Tracer("test").Start(context.Background(), "dropped")
	if span.IsRecording() {
		t.Error("a dropped span is recorded although the policy does not keep errors")
	}
	span.SetStatus(codes.Error, "boom")
	span.End()
	if n := len(exporter.GetSpans()); n != 0 {
		t.Errorf("%d spans exported", n)
	}
}

func TestProcessorKeepsLatencyOutliers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.json")
	text := strings.Replace(dropAllButKept, `{"keep_errors": %s}`,
		`{"keep_errors": false, "latency": {"window": 16, "threshold": 6, "min_samples": 8, "min_spread_ms": 1}}`, 1)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	exporter := tracetest.NewInMemoryExporter()
	sampler := MustLoad(path, WithServiceName("svc"))
	processor := NewProcessor(sampler, sdktrace.NewSimpleSpanProcessor(exporter))
	provider := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithSpanProcessor(processor))
	defer func() { _ = provider.Shutdown(context.Background()) }()
	tracer := provider.Tracer("test")
	start := time.Unix(1_700_000_000, 0)
	run := func(name string, took time.Duration, failed bool) {
		_, span := tracer.Start(context.Background(), name, trace.WithTimestamp(start))
		if failed {
			span.SetStatus(codes.Error, "boom")
		}
		span.End(trace.WithTimestamp(start.Add(took)))
	}
	for i := range 16 {
		run("op", 10*time.Millisecond+time.Duration(i%3)*time.Millisecond, false)
	}
	run("op", 500*time.Millisecond, false)    // an outlier: exported
	run("op", 11*time.Millisecond, true)      // an error, but the policy does not keep errors
	run("other", 500*time.Millisecond, false) // its own window, not warmed up
	spans := exporter.GetSpans()
	if len(spans) != 1 || spans[0].EndTime.Sub(spans[0].StartTime) != 500*time.Millisecond {
		t.Errorf("exported %v, want the 500 ms op", exportedNames(spans))
	}
	if stats := processor.Stats(); stats.KeptByLatency != 1 || stats.KeptByError != 0 {
		t.Errorf("stats %+v", stats)
	}
}
