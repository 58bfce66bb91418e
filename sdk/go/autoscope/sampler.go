// Package autoscope is Autoscope's span-level sampler for the OpenTelemetry Go SDK: it
// loads the policy `autoscope analyze` wrote and decides each span at its start exactly
// as the Autoscope runtime does (the conformance vectors in conformance/v1 pin it).
//
//	sampler := autoscope.MustLoad("policy.json")
//	provider := sdktrace.NewTracerProvider(
//		sdktrace.WithSampler(sampler),
//		sdktrace.WithSpanProcessor(autoscope.NewProcessor(sampler, sdktrace.NewBatchSpanProcessor(exporter))),
//	)
//
// The decision is a function of the service (the resource's service.name), the span's
// name, kind and start attributes, and the trace's randomness: the rv of the parent's
// ot tracestate entry, else the low 56 bits of the trace id. A sampled span gets th in
// the ot entry of its tracestate, so Autoscope nests with OpenTelemetry's consistent
// probability samplers. When the policy keeps error spans or latency outliers, a
// dropped span is still recorded (RecordOnly) so that [NewProcessor] can export it if
// it ends with an error or took unusually long.
package autoscope

import (
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// action is a rule's (or the default) action, compiled.
type action struct {
	// id is the rule id; "" for the default action.
	id        string
	threshold uint64
	// th is the threshold's th value, and otTh the ot value "th:<th>".
	th   string
	otTh string
	// alone is the tracestate holding only ot=th:<th>: what a root span gets, shared
	// (trace.TraceState is immutable) so that roots cost no allocation.
	alone trace.TraceState
}

func compileAction(id string, a *actionFile) action {
	compiled := action{id: id, threshold: 0}
	if *a.Action == "sample" {
		compiled.threshold = threshold(*a.Rate)
	}
	compiled.th = encodeTh(compiled.threshold)
	if compiled.th != "" {
		compiled.otTh = "th:" + compiled.th
		compiled.alone, _ = trace.TraceState{}.Insert("ot", compiled.otTh)
	}
	return compiled
}

// stateFor is parent's tracestate with th set in its ot entry (rv and other ot parts
// and other entries kept).
func (a *action) stateFor(parent trace.TraceState, ot string) trace.TraceState {
	if ot == a.otTh {
		return parent
	}
	if parent.Len() == 0 {
		return a.alone
	}
	value := a.otTh
	for part := range strings.SplitSeq(ot, ";") {
		if part != "" && !strings.HasPrefix(part, "th:") {
			value += ";" + part
		}
	}
	state, err := parent.Insert("ot", value)
	if err != nil {
		// An ot value W3C rejects (too long) leaves the parent's state.
		return parent
	}
	return state
}

// Sampler is a loaded policy for one service, as an sdktrace.Sampler.
type Sampler struct {
	matchers      *matcherIndex
	rules         []action
	defaultAction action
	service       string
	keepErrors    bool
	// latency is the latency override's state; nil when the policy has none.
	latency     *latencyTracker
	description string
}

// Option configures [Load].
type Option func(*options)

type options struct {
	service *string
}

// WithServiceName sets the service the policy's service-scoped rules are matched
// against. Without it the sampler takes the service.name of the SDK's default resource
// (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES): give it when the tracer provider's
// resource names the service otherwise.
func WithServiceName(name string) Option {
	return func(o *options) { o.service = &name }
}

// Load reads the policy at path and returns its sampler. A policy that cannot be read
// or is invalid gives a *PolicyError naming the file.
func Load(path string, opts ...Option) (sdktrace.Sampler, error) {
	return LoadSampler(path, opts...)
}

// MustLoad is [Load] that panics on error, for one-line setup in main.
func MustLoad(path string, opts ...Option) sdktrace.Sampler {
	sampler, err := LoadSampler(path, opts...)
	if err != nil {
		panic(err)
	}
	return sampler
}

// LoadSampler is [Load] returning the concrete sampler.
func LoadSampler(path string, opts ...Option) (*Sampler, error) {
	policy, err := readPolicyFile(path)
	if err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	service := ""
	if o.service != nil {
		service = *o.service
	} else {
		service = defaultServiceName()
	}
	return newSampler(policy, service, path), nil
}

// defaultServiceName is the service.name the SDK's default resource has: from
// OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES as they are now (the default resource
// is computed once per process), else the SDK's unknown_service:<executable>.
func defaultServiceName() string {
	key := attribute.Key("service.name")
	if value, ok := sdkresource.Environment().Set().Value(key); ok && value.AsString() != "" {
		return value.AsString()
	}
	value, _ := sdkresource.Default().Set().Value(key)
	return value.AsString()
}

func newSampler(policy *policyFile, service, origin string) *Sampler {
	s := &Sampler{
		matchers:      newMatcherIndex(*policy.Rules),
		defaultAction: compileAction("", policy.DefaultAction),
		service:       service,
		keepErrors:    policy.keepsErrors(),
		description:   fmt.Sprintf("Autoscope{policy=%s,service=%s}", origin, service),
	}
	for _, rule := range *policy.Rules {
		s.rules = append(s.rules, compileAction(*rule.ID, rule.Action))
	}
	if config := policy.latencyOverride(); config != nil {
		s.latency = newLatencyTracker(*config)
	}
	return s
}

// Decision is a span's head decision.
type Decision struct {
	// Sampled: keep the span.
	Sampled bool
	// Rule is the id of the deciding rule; "" when the default action decided.
	Rule string
	// Randomness is the trace's R, in [0, 2^56).
	Randomness uint64
	// Threshold is the action's T (0 keeps all, 2^56 none).
	Threshold uint64
	// Th is T as OpenTelemetry's th value ("" for T = 2^56).
	Th string
}

// AdjustedCount is how many spans a sampled span stands for (0 when dropped).
func (d Decision) AdjustedCount() float64 {
	if !d.Sampled {
		return 0
	}
	return adjustedCount(d.Threshold)
}

func (s *Sampler) actionFor(service, name string, kind trace.SpanKind, attributes []attribute.KeyValue) *action {
	if rule := s.matchers.find(service, name, kind, attributes); rule >= 0 {
		return &s.rules[rule]
	}
	return &s.defaultAction
}

// decide is the head decision from raw trace id bytes and a tracestate header: the
// function the conformance vectors pin.
func (s *Sampler) decide(service, name string, kind trace.SpanKind, attributes []attribute.KeyValue, traceID []byte, tracestate string) Decision {
	a := s.actionFor(service, name, kind, attributes)
	r := randomnessFromOt(traceID, otValue(tracestate))
	return Decision{Sampled: r >= a.threshold, Rule: a.id, Randomness: r, Threshold: a.threshold, Th: a.th}
}

// Decide is the head decision of a span of this sampler's service.
func (s *Sampler) Decide(p sdktrace.SamplingParameters) Decision {
	ot := trace.SpanContextFromContext(p.ParentContext).TraceState().Get("ot")
	a := s.actionFor(s.service, p.Name, p.Kind, p.Attributes)
	r := randomnessFromOt(p.TraceID[:], ot)
	return Decision{Sampled: r >= a.threshold, Rule: a.id, Randomness: r, Threshold: a.threshold, Th: a.th}
}

// ShouldSample implements sdktrace.Sampler.
func (s *Sampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	state := trace.SpanContextFromContext(p.ParentContext).TraceState()
	ot := state.Get("ot")
	a := s.actionFor(s.service, p.Name, p.Kind, p.Attributes)
	if randomnessFromOt(p.TraceID[:], ot) >= a.threshold {
		return sdktrace.SamplingResult{Decision: sdktrace.RecordAndSample, Tracestate: a.stateFor(state, ot)}
	}
	if s.keepErrors || s.latency != nil {
		// Recorded so that the processor sees the span end and can keep an error or a
		// latency outlier.
		return sdktrace.SamplingResult{Decision: sdktrace.RecordOnly, Tracestate: state}
	}
	return sdktrace.SamplingResult{Decision: sdktrace.Drop, Tracestate: state}
}

// latencyOutlier feeds the latency override's window of an ended span and reports
// whether the span is an outlier (false when the policy has no latency override).
func (s *Sampler) latencyOutlier(span sdktrace.ReadOnlySpan) bool {
	if s.latency == nil {
		return false
	}
	matcher := -1
	c := s.matchers.candidateFor(s.service, span.Name(), span.SpanKind(), span.Attributes())
	if c != nil && (c.name.kind == exactMatch || c.name.kind == templateMatch) {
		matcher = c.matcher
	}
	nanos := span.EndTime().Sub(span.StartTime()).Nanoseconds()
	return s.latency.observe(matcher, span.Name(), uint64(max(nanos, 0)))
}

// Description implements sdktrace.Sampler.
func (s *Sampler) Description() string {
	return s.description
}
