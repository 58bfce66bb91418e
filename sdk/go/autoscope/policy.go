package autoscope

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"unicode/utf8"
)

// The policy file, format version 2 (version 1 policies read as version 2 without
// conditions): the JSON that `autoscope analyze` writes (policy-schema/src/lib.rs).

type policyFile struct {
	Schema          *string        `json:"$schema"`
	Version         *uint32        `json:"version"`
	Generator       *generatorFile `json:"generator"`
	TargetReduction *float64       `json:"target_reduction"`
	DefaultAction   *actionFile    `json:"default_action"`
	Overrides       *overridesFile `json:"overrides"`
	Structure       *structureFile `json:"structure"`
	Budget          *budgetFile    `json:"budget"`
	Rules           *[]ruleFile    `json:"rules"`
}

type generatorFile struct {
	Tool       *string  `json:"tool"`
	Version    *string  `json:"version"`
	SourceRoot *string  `json:"source_root"`
	Arguments  []string `json:"arguments"`
}

type actionFile struct {
	Action *string  `json:"action"`
	Rate   *float64 `json:"rate"`
}

type overridesFile struct {
	KeepErrors *bool            `json:"keep_errors"`
	Latency    *json.RawMessage `json:"latency"`
}

type structureFile struct {
	Mode *string `json:"mode"`
}

type budgetFile struct {
	SpansPerSecond *float64 `json:"spans_per_second"`
}

type ruleFile struct {
	ID         *string          `json:"id"`
	Service    *string          `json:"service"`
	Profile    *string          `json:"profile"`
	Match      *[]matcherFile   `json:"match"`
	Kind       *string          `json:"kind"`
	Attributes []conditionFile  `json:"attributes"`
	Action     *actionFile      `json:"action"`
	Evidence   *json.RawMessage `json:"evidence"`
}

type matcherFile struct {
	Exact    *string `json:"exact"`
	Template *string `json:"template"`
	Prefix   *string `json:"prefix"`
	Glob     *string `json:"glob"`
}

type conditionFile struct {
	Key *string `json:"key"`
	matcherFile
}

type matchKind uint8

const (
	exactMatch matchKind = iota
	templateMatch
	prefixMatch
	globMatch
)

var matchKindNames = [...]string{"exact", "template", "prefix", "glob"}

// one is the single matcher a matcher object names.
func (m matcherFile) one() (matchKind, string, bool) {
	found, kind, text := 0, exactMatch, ""
	for k, value := range []*string{m.Exact, m.Template, m.Prefix, m.Glob} {
		if value != nil {
			found++
			kind, text = matchKind(k), *value
		}
	}
	return kind, text, found == 1
}

// PolicyError says why a policy cannot be loaded: the file, where, and what is wrong.
type PolicyError struct {
	// File is the policy's path.
	File string
	// Line is the 1-based line of the error (0 when not known).
	Line int
	// Field is the JSON path of the offending field, e.g. rules[3].action.rate.
	Field string
	// Message says what is wrong.
	Message string
}

func (e *PolicyError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
	}
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}

type latencyFile struct {
	Window      *uint32  `json:"window"`
	Threshold   *float64 `json:"threshold"`
	MinSamples  *uint32  `json:"min_samples"`
	MinSpreadMs *float64 `json:"min_spread_ms"`
}

type evidenceFile struct {
	Score    *float64     `json:"score"`
	Function *string      `json:"function"`
	File     *string      `json:"file"`
	Line     *uint32      `json:"line"`
	Reasons  []reasonFile `json:"reasons"`
}

type reasonFile struct {
	Kind   *string  `json:"kind"`
	Points *float64 `json:"points"`
	Detail *string  `json:"detail"`
	File   *string  `json:"file"`
	Line   *uint32  `json:"line"`
}

func decodeStrict(data []byte, into any) error {
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(into); err != nil {
		return err
	}
	if decoder.More() {
		return errors.New("trailing characters after the policy")
	}
	return nil
}

// lineOf is the 1-based line of a byte offset.
func lineOf(data []byte, offset int64) int {
	offset = min(max(offset, 0), int64(len(data)))
	return bytes.Count(data[:offset], []byte("\n")) + 1
}

// readPolicyFile reads and validates the policy at path.
func readPolicyFile(path string) (*policyFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var message string
		switch {
		case errors.Is(err, os.ErrNotExist):
			message = "no such file"
		case errors.Is(err, os.ErrPermission):
			message = "permission denied"
		default:
			message = err.Error()
			if pathErr := (*os.PathError)(nil); errors.As(err, &pathErr) {
				message = pathErr.Err.Error()
			}
		}
		return nil, &PolicyError{File: path, Message: "cannot read the policy: " + message}
	}
	return parsePolicy(path, data)
}

func parsePolicy(origin string, data []byte) (*policyFile, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &PolicyError{File: origin, Message: "empty: expected a policy (a JSON object)"}
	}
	if !utf8.Valid(data) {
		return nil, &PolicyError{File: origin, Message: "invalid UTF-8"}
	}
	var policy policyFile
	if err := decodeStrict(data, &policy); err != nil {
		problem := &PolicyError{File: origin, Message: err.Error()}
		var syntaxErr *json.SyntaxError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syntaxErr):
			problem.Line = lineOf(data, syntaxErr.Offset)
		case errors.As(err, &typeErr):
			problem.Line = lineOf(data, typeErr.Offset)
			problem.Field = typeErr.Field
			problem.Message = fmt.Sprintf("expected %s, found a JSON %s", typeErr.Type, typeErr.Value)
		}
		problem.Message = strings.TrimPrefix(problem.Message, "json: ")
		return nil, problem
	}
	if problem := policy.firstProblem(); problem != nil {
		problem.File = origin
		problem.Line = lineOfField(data, problem.Field)
		return nil, problem
	}
	return &policy, nil
}

func invalid(field, format string, args ...any) *PolicyError {
	return &PolicyError{Field: field, Message: fmt.Sprintf(format, args...)}
}

func actionProblem(action *actionFile, field string) *PolicyError {
	if action == nil {
		return invalid(field, "missing")
	}
	if action.Action == nil {
		return invalid(field+".action", "missing: \"keep\" or \"sample\"")
	}
	switch *action.Action {
	case "keep":
		if action.Rate != nil {
			return invalid(field+".rate", "a keep action has no rate")
		}
	case "sample":
		if action.Rate == nil {
			return invalid(field+".rate", "missing: a sample action needs a rate in [0, 1]")
		}
		if rate := *action.Rate; !(rate >= 0 && rate <= 1) {
			return invalid(field+".rate", "rate %v is outside [0, 1]", rate)
		}
	default:
		return invalid(field+".action", "unknown action %q (expected \"keep\" or \"sample\")", *action.Action)
	}
	return nil
}

var spanKinds = map[string]bool{"server": true, "client": true, "producer": true, "consumer": true, "internal": true}

// firstProblem mirrors the checks of policy-schema's loader, in its order.
func (p *policyFile) firstProblem() *PolicyError {
	switch {
	case p.Version == nil:
		return invalid("version", "missing")
	case *p.Version < 1 || *p.Version > 2:
		return invalid("version", "unknown version %d (this build reads versions 1 to 2)", *p.Version)
	case p.Generator == nil || p.Generator.Tool == nil || p.Generator.Version == nil:
		return invalid("generator", "missing, or without tool and version")
	case p.TargetReduction == nil:
		return invalid("target_reduction", "missing")
	case !(*p.TargetReduction >= 0 && *p.TargetReduction <= 1):
		return invalid("target_reduction", "%v is outside [0, 1]", *p.TargetReduction)
	case p.Rules == nil:
		return invalid("rules", "missing")
	}
	if problem := actionProblem(p.DefaultAction, "default_action"); problem != nil {
		return problem
	}
	if p.Overrides != nil && p.Overrides.Latency != nil && string(*p.Overrides.Latency) != "null" {
		var latency latencyFile
		if err := decodeStrict(*p.Overrides.Latency, &latency); err != nil {
			return invalid("overrides.latency", "%s", strings.TrimPrefix(err.Error(), "json: "))
		}
		switch {
		case latency.Window == nil || latency.Threshold == nil || latency.MinSamples == nil:
			return invalid("overrides.latency", "needs window, threshold and min_samples")
		case *latency.Window == 0:
			return invalid("overrides.latency.window", "window must be at least 1")
		case !(*latency.Threshold > 0 && !math.IsInf(*latency.Threshold, 0)):
			return invalid("overrides.latency.threshold", "%v must be a positive number", *latency.Threshold)
		case latency.MinSpreadMs != nil && !(*latency.MinSpreadMs >= 0 && !math.IsInf(*latency.MinSpreadMs, 0)):
			return invalid("overrides.latency.min_spread_ms", "%v must be a finite number >= 0", *latency.MinSpreadMs)
		}
	}
	if p.Structure != nil && (p.Structure.Mode == nil || (*p.Structure.Mode != "keep-ancestors" && *p.Structure.Mode != "reparent")) {
		return invalid("structure.mode", "expected \"keep-ancestors\" or \"reparent\"")
	}
	if b := p.Budget; b != nil && (b.SpansPerSecond == nil || !(*b.SpansPerSecond > 0 && !math.IsInf(*b.SpansPerSecond, 0))) {
		return invalid("budget.spans_per_second", "must be a positive number")
	}
	firstIndexOfID := map[string]int{}
	for i, rule := range *p.Rules {
		at := func(field string) string { return fmt.Sprintf("rules[%d]%s", i, field) }
		if rule.ID == nil {
			return invalid(at(".id"), "missing")
		}
		if first, seen := firstIndexOfID[*rule.ID]; seen {
			return invalid(at(".id"), "duplicate rule id %q (first used by rules[%d])", *rule.ID, first)
		}
		firstIndexOfID[*rule.ID] = i
		if rule.Match == nil || len(*rule.Match) == 0 {
			return invalid(at(".match"), "a rule needs at least one matcher")
		}
		for j, matcher := range *rule.Match {
			kind, text, ok := matcher.one()
			field := at(fmt.Sprintf(".match[%d]", j))
			if !ok {
				return invalid(field, "needs exactly one of exact, template, prefix, glob")
			}
			field += "." + matchKindNames[kind]
			if kind == templateMatch {
				if _, err := parseTemplate(text); err != nil {
					return invalid(field, "invalid template %q: %v", text, err)
				}
			} else if text == "" {
				return invalid(field, "empty %s matcher", matchKindNames[kind])
			}
		}
		if rule.Kind != nil && !spanKinds[*rule.Kind] {
			return invalid(at(".kind"), "unknown span kind %q (server, client, producer, consumer, internal)", *rule.Kind)
		}
		if *p.Version < 2 {
			if rule.Kind != nil {
				return invalid(at(".kind"), "kind conditions need policy version 2 (this policy says version %d); set \"version\": 2", *p.Version)
			}
			if len(rule.Attributes) > 0 {
				return invalid(at(".attributes"), "attribute conditions need policy version 2 (this policy says version %d); set \"version\": 2", *p.Version)
			}
		}
		for j, condition := range rule.Attributes {
			field := at(fmt.Sprintf(".attributes[%d]", j))
			if condition.Key == nil {
				return invalid(field+".key", "missing")
			}
			kind, text, ok := condition.one()
			if !ok {
				return invalid(field, "attribute condition on %q needs exactly one of exact, template, prefix, glob", *condition.Key)
			}
			if *condition.Key == "" {
				return invalid(field+".key", "empty attribute key")
			}
			if kind == templateMatch {
				if _, err := parseTemplate(text); err != nil {
					return invalid(field+".template", "invalid template %q: %v", text, err)
				}
			}
		}
		if problem := actionProblem(rule.Action, at(".action")); problem != nil {
			return problem
		}
		if rule.Evidence != nil && string(*rule.Evidence) != "null" {
			var evidence evidenceFile
			if err := decodeStrict(*rule.Evidence, &evidence); err != nil {
				return invalid(at(".evidence"), "%s", strings.TrimPrefix(err.Error(), "json: "))
			}
		}
	}
	return nil
}

// latencyOverride is the policy's latency override, nil when off: a policy without an
// overrides object has the default one, an overrides object without latency none.
func (p *policyFile) latencyOverride() *latencyConfig {
	if p.Overrides == nil {
		config := defaultLatency
		return &config
	}
	if p.Overrides.Latency == nil || string(*p.Overrides.Latency) == "null" {
		return nil
	}
	var latency latencyFile
	// Validated by firstProblem.
	_ = decodeStrict(*p.Overrides.Latency, &latency)
	config := latencyConfig{
		window:         int(*latency.Window),
		threshold:      *latency.Threshold,
		minSamples:     int(*latency.MinSamples),
		minSpreadNanos: defaultLatency.minSpreadNanos,
	}
	if latency.MinSpreadMs != nil {
		config.minSpreadNanos = *latency.MinSpreadMs * 1e6
	}
	return &config
}

// keepsErrors is the policy's keep_errors override (on unless the policy turns it off).
func (p *policyFile) keepsErrors() bool {
	return p.Overrides == nil || p.Overrides.KeepErrors == nil || *p.Overrides.KeepErrors
}
