package autoscope

import (
	"context"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// MaxWaiting bounds the span ids a [Processor] holds while they wait for their span to
// end; beyond it an ancestor is not kept (counted in [ProcessorStats.WaitingOverflow]).
const MaxWaiting = 1 << 16

// Processor keeps what only the end of a span reveals. It wraps the exporter's
// processor and passes on every sampled span, and also a recorded but unsampled span
// (the sampler's RecordOnly) that ends with error status (when the policy keeps
// errors) or is a latency outlier by the policy's latency override, marked sampled;
// then every
// local ancestor of an exported span when that ancestor ends, so that no exported span
// misses a parent that ran in this process and ended after it. It buffers no spans: it
// holds only the set of span ids waiting to be kept.
type Processor struct {
	next sdktrace.SpanProcessor
	// policy is the sampler whose policy's overrides apply; nil: errors are kept.
	policy *Sampler

	mu      sync.Mutex
	waiting map[trace.SpanID]struct{}
	// waitingLen is len(waiting), read without the lock: most spans end with nothing
	// waiting.
	waitingLen atomic.Int64

	keptByError     atomic.Uint64
	keptByLatency   atomic.Uint64
	keptAsAncestor  atomic.Uint64
	dropped         atomic.Uint64
	waitingOverflow atomic.Uint64
}

// NewProcessor wraps next, the processor that exports (e.g.
// sdktrace.NewBatchSpanProcessor(exporter)), with the overrides of sampler's policy
// (the sampler [Load] returned; any other sampler: errors are kept, no latency
// override). Register it instead of next.
func NewProcessor(sampler sdktrace.Sampler, next sdktrace.SpanProcessor) *Processor {
	policy, _ := sampler.(*Sampler)
	return &Processor{next: next, policy: policy, waiting: map[trace.SpanID]struct{}{}}
}

// ProcessorStats counts what a [Processor] did.
type ProcessorStats struct {
	// KeptByError counts unsampled spans exported because they ended with error status.
	KeptByError uint64
	// KeptByLatency counts unsampled spans exported as latency outliers.
	KeptByLatency uint64
	// KeptAsAncestor counts unsampled spans exported as local ancestors of exported spans.
	KeptAsAncestor uint64
	// Dropped counts recorded, unsampled spans not exported.
	Dropped uint64
	// Waiting is the number of span ids waiting for their span to end.
	Waiting uint64
	// WaitingOverflow counts ancestors not kept because MaxWaiting ids were waiting.
	WaitingOverflow uint64
}

// Stats returns the counts so far.
func (p *Processor) Stats() ProcessorStats {
	return ProcessorStats{
		KeptByError:     p.keptByError.Load(),
		KeptByLatency:   p.keptByLatency.Load(),
		KeptAsAncestor:  p.keptAsAncestor.Load(),
		Dropped:         p.dropped.Load(),
		Waiting:         uint64(p.waitingLen.Load()),
		WaitingOverflow: p.waitingOverflow.Load(),
	}
}

func (p *Processor) waitFor(id trace.SpanID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, already := p.waiting[id]; !already && len(p.waiting) >= MaxWaiting {
		p.waitingOverflow.Add(1)
		return
	}
	p.waiting[id] = struct{}{}
	p.waitingLen.Store(int64(len(p.waiting)))
}

// stopWaiting reports whether id was waiting (and no longer is).
func (p *Processor) stopWaiting(id trace.SpanID) bool {
	if p.waitingLen.Load() == 0 {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, was := p.waiting[id]
	delete(p.waiting, id)
	p.waitingLen.Store(int64(len(p.waiting)))
	return was
}

// OnStart implements sdktrace.SpanProcessor.
func (p *Processor) OnStart(parent context.Context, s sdktrace.ReadWriteSpan) {
	p.next.OnStart(parent, s)
	own := s.SpanContext()
	if !own.IsSampled() {
		return
	}
	// A sampled span under a local, unsampled parent: keep the parent when it ends.
	if up := s.Parent(); up.IsValid() && !up.IsRemote() && !up.IsSampled() && up.TraceID() == own.TraceID() {
		p.waitFor(up.SpanID())
	}
}

// sampledSpan is an ended span shown to the next processor as sampled.
type sampledSpan struct {
	sdktrace.ReadOnlySpan
	context trace.SpanContext
}

func (s sampledSpan) SpanContext() trace.SpanContext { return s.context }

// OnEnd implements sdktrace.SpanProcessor.
func (p *Processor) OnEnd(s sdktrace.ReadOnlySpan) {
	// Every ended span feeds the latency windows, sampled or not.
	outlier := p.policy != nil && p.policy.latencyOutlier(s)
	own := s.SpanContext()
	if own.IsSampled() {
		p.stopWaiting(own.SpanID())
		p.next.OnEnd(s)
		return
	}
	waited := p.stopWaiting(own.SpanID())
	switch {
	case s.Status().Code == codes.Error && (p.policy == nil || p.policy.keepErrors):
		p.keptByError.Add(1)
	case outlier:
		p.keptByLatency.Add(1)
	case waited:
		p.keptAsAncestor.Add(1)
	default:
		p.dropped.Add(1)
		return
	}
	if up := s.Parent(); up.IsValid() && !up.IsRemote() {
		p.waitFor(up.SpanID())
	}
	p.next.OnEnd(sampledSpan{ReadOnlySpan: s, context: own.WithTraceFlags(own.TraceFlags().WithSampled(true))})
}

// Shutdown implements sdktrace.SpanProcessor.
func (p *Processor) Shutdown(ctx context.Context) error { return p.next.Shutdown(ctx) }

// ForceFlush implements sdktrace.SpanProcessor.
func (p *Processor) ForceFlush(ctx context.Context) error { return p.next.ForceFlush(ctx) }
