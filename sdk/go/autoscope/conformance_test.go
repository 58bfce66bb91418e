package autoscope

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// conformanceDir is the versioned set of cases every Autoscope sampler must agree on.
var conformanceDir = filepath.Join("..", "..", "..", "conformance", "v1")

type conformanceCase struct {
	ID     string `json:"id"`
	Policy string `json:"policy"`
	Span   struct {
		Service string  `json:"service"`
		Name    string  `json:"name"`
		Kind    *string `json:"kind"`
		TraceID struct {
			Hex  *string `json:"hex"`
			Text *string `json:"text"`
		} `json:"trace_id"`
		Tracestate string `json:"tracestate"`
		Attributes []struct {
			Key   string          `json:"key"`
			Type  string          `json:"type"`
			Value json.RawMessage `json:"value"`
		} `json:"attributes"`
	} `json:"span"`
	Expect struct {
		Sampled       bool    `json:"sampled"`
		Rule          *string `json:"rule"`
		Randomness    string  `json:"randomness"`
		Threshold     string  `json:"threshold"`
		Th            *string `json:"th"`
		AdjustedCount float64 `json:"adjusted_count"`
	} `json:"expect"`
}

func (c *conformanceCase) traceID() ([]byte, error) {
	switch {
	case c.Span.TraceID.Hex != nil:
		return hex.DecodeString(*c.Span.TraceID.Hex)
	case c.Span.TraceID.Text != nil:
		return []byte(*c.Span.TraceID.Text), nil
	}
	return nil, fmt.Errorf("no trace id")
}

func (c *conformanceCase) kind() trace.SpanKind {
	if c.Span.Kind == nil {
		return trace.SpanKindUnspecified
	}
	return kindOfName[*c.Span.Kind]
}

func (c *conformanceCase) attributes() ([]attribute.KeyValue, error) {
	var out []attribute.KeyValue
	for _, a := range c.Span.Attributes {
		switch a.Type {
		case "string":
			var v string
			if err := json.Unmarshal(a.Value, &v); err != nil {
				return nil, err
			}
			out = append(out, attribute.String(a.Key, v))
		case "int":
			v, err := strconv.ParseInt(string(a.Value), 10, 64)
			if err != nil {
				return nil, err
			}
			out = append(out, attribute.Int64(a.Key, v))
		case "bool":
			var v bool
			if err := json.Unmarshal(a.Value, &v); err != nil {
				return nil, err
			}
			out = append(out, attribute.Bool(a.Key, v))
		case "double":
			text := string(a.Value)
			if unquoted, err := strconv.Unquote(text); err == nil {
				text = unquoted // "NaN", "Infinity", "-Infinity"
			}
			text = strings.Replace(text, "Infinity", "Inf", 1)
			v, err := strconv.ParseFloat(text, 64)
			if err != nil {
				return nil, err
			}
			out = append(out, attribute.Float64(a.Key, v))
		default:
			return nil, fmt.Errorf("unknown attribute type %q", a.Type)
		}
	}
	return out, nil
}

func readCases(t testing.TB) []conformanceCase {
	t.Helper()
	file, err := os.Open(filepath.Join(conformanceDir, "cases.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	var cases []conformanceCase
	scanner := bufio.NewScanner(file)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; scanner.Scan(); line++ {
		var c conformanceCase
		if err := json.Unmarshal(scanner.Bytes(), &c); err != nil {
			t.Fatalf("cases.jsonl line %d: %v", line, err)
		}
		cases = append(cases, c)
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

func hex14(value uint64) string {
	if value == never {
		return "100000000000000"
	}
	return fmt.Sprintf("%014x", value)
}

// samplers compiles each conformance policy once per service.
type samplers map[[2]string]*Sampler

func (s samplers) get(t *testing.T, policy, service string) *Sampler {
	key := [2]string{policy, service}
	if sampler, ok := s[key]; ok {
		return sampler
	}
	sampler, err := LoadSampler(filepath.Join(conformanceDir, "policies", policy+".json"), WithServiceName(service))
	if err != nil {
		t.Fatal(err)
	}
	s[key] = sampler
	return sampler
}

func TestConformanceEveryCase(t *testing.T) {
	cases := readCases(t)
	if len(cases) < 1000 {
		t.Fatalf("only %d conformance cases", len(cases))
	}
	compiled := samplers{}
	throughSDK := 0
	for _, c := range cases {
		sampler := compiled.get(t, c.Policy, c.Span.Service)
		id, err := c.traceID()
		if err != nil {
			t.Fatalf("%s: %v", c.ID, err)
		}
		attributes, err := c.attributes()
		if err != nil {
			t.Fatalf("%s: %v", c.ID, err)
		}
		got := sampler.decide(c.Span.Service, c.Span.Name, c.kind(), attributes, id, c.Span.Tracestate)
		want := c.Expect
		wantRule := ""
		if want.Rule != nil {
			wantRule = *want.Rule
		}
		wantTh := ""
		if want.Th != nil {
			wantTh = *want.Th
		}
		if got.Sampled != want.Sampled || got.Rule != wantRule || hex14(got.Randomness) != want.Randomness ||
			hex14(got.Threshold) != want.Threshold || got.Th != wantTh ||
			math.Float64bits(got.AdjustedCount()) != math.Float64bits(want.AdjustedCount) {
			t.Errorf("%s: got sampled=%v rule=%q R=%s T=%s th=%q adjusted=%v, want sampled=%v rule=%q R=%s T=%s th=%q adjusted=%v",
				c.ID, got.Sampled, got.Rule, hex14(got.Randomness), hex14(got.Threshold), got.Th, got.AdjustedCount(),
				want.Sampled, wantRule, want.Randomness, want.Threshold, wantTh, want.AdjustedCount)
			continue
		}
		if checkThroughShouldSample(t, sampler, &c, id, attributes) {
			throughSDK++
		}
	}
	t.Logf("%d cases, %d of them also through ShouldSample", len(cases), throughSDK)
	// Every W3C-id case whose tracestate Go's parser accepts also runs through the SDK.
	if throughSDK < 1000 {
		t.Errorf("only %d cases ran through ShouldSample", throughSDK)
	}
}

// checkThroughShouldSample runs a case through the sdktrace.Sampler interface when the
// SDK can represent it (a 16-byte trace id; a tracestate that is valid W3C and whose
// ot member the SDK reads alike), and asserts the decision and the written th.
func checkThroughShouldSample(t *testing.T, sampler *Sampler, c *conformanceCase, id []byte, attributes []attribute.KeyValue) bool {
	if len(id) != 16 {
		return false
	}
	state, err := trace.ParseTraceState(c.Span.Tracestate)
	if err != nil || state.Get("ot") != otValue(c.Span.Tracestate) {
		return false
	}
	var traceID trace.TraceID
	copy(traceID[:], id)
	parent := context.Background()
	if c.Span.Tracestate != "" {
		parent = trace.ContextWithRemoteSpanContext(parent, trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: traceID, SpanID: trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8}, TraceState: state, Remote: true,
		}))
	}
	result := sampler.ShouldSample(sdktrace.SamplingParameters{
		ParentContext: parent, TraceID: traceID, Name: c.Span.Name, Kind: c.kind(), Attributes: attributes,
	})
	wantDecision := sdktrace.RecordOnly // every conformance policy keeps errors
	if c.Expect.Sampled {
		wantDecision = sdktrace.RecordAndSample
	}
	if result.Decision != wantDecision {
		t.Errorf("%s: ShouldSample decided %v, want %v", c.ID, result.Decision, wantDecision)
	}
	ot := result.Tracestate.Get("ot")
	if c.Expect.Sampled {
		parts := strings.Split(ot, ";")
		if parts[0] != "th:"+*c.Expect.Th {
			t.Errorf("%s: ot entry %q, want th:%s first", c.ID, ot, *c.Expect.Th)
		}
		// The parent's other ot parts (rv among them) are kept, its th replaced.
		var kept []string
		for part := range strings.SplitSeq(state.Get("ot"), ";") {
			if part != "" && !strings.HasPrefix(part, "th:") {
				kept = append(kept, part)
			}
		}
		if strings.Join(parts[1:], ";") != strings.Join(kept, ";") {
			t.Errorf("%s: ot entry %q lost parts of the parent's %q", c.ID, ot, state.Get("ot"))
		}
	} else if result.Tracestate.String() != state.String() {
		t.Errorf("%s: a dropped span changed the tracestate to %q", c.ID, result.Tracestate.String())
	}
	return true
}
