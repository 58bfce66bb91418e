package autoscope

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBadPoliciesNameTheFileAndField(t *testing.T) {
	const good = `{"version": 2, "generator": {"tool": "t", "version": "1"}, "target_reduction": 0.5,
 "default_action": {"action": "sample", "rate": 0.5}, "rules": [%s]}`
	cases := []struct{ name, text, want string }{
		{"empty", "  \n", "empty: expected a policy"},
		{"syntax", "{\n  \"version\": 2,\n  oops\n}", "line 3"},
		{"unknown field", `{"version": 2, "colour": "red"}`, `unknown field "colour"`},
		{"wrong type", `{"version": "two"}`, "version: expected uint32"},
		{"version", `{"version": 3, "generator": {"tool": "t", "version": "1"}, "target_reduction": 0, "default_action": {"action": "keep"}, "rules": []}`, "version: unknown version 3"},
		{"rate", strings.Replace(good, "%s", `{"id": "a", "match": [{"exact": "x"}], "action": {"action": "sample", "rate": 1.5}}`, 1), "rules[0].action.rate: rate 1.5 is outside [0, 1]"},
		{"duplicate id", strings.Replace(good, "%s", `{"id": "a", "match": [{"exact": "x"}], "action": {"action": "keep"}}, {"id": "a", "match": [{"exact": "y"}], "action": {"action": "keep"}}`, 1), `rules[1].id: duplicate rule id "a" (first used by rules[0])`},
		{"adjacent placeholders", strings.Replace(good, "%s", `{"id": "a", "match": [{"template": "/{a}{b}"}], "action": {"action": "keep"}}`, 1), "rules[0].match[0].template: invalid template"},
		{"two matchers in one", strings.Replace(good, "%s", `{"id": "a", "match": [{"exact": "x", "glob": "y"}], "action": {"action": "keep"}}`, 1), "rules[0].match[0]: needs exactly one"},
		{"kind", strings.Replace(good, "%s", `{"id": "a", "match": [{"exact": "x"}], "kind": "sideways", "action": {"action": "keep"}}`, 1), `rules[0].kind: unknown span kind "sideways"`},
		{"conditions in version 1", strings.Replace(strings.Replace(good, "%s", `{"id": "a", "match": [{"exact": "x"}], "kind": "client", "action": {"action": "keep"}}`, 1), `"version": 2`, `"version": 1`, 1), "rules[0].kind: kind conditions need policy version 2"},
		{"empty key", strings.Replace(good, "%s", `{"id": "a", "match": [{"exact": "x"}], "attributes": [{"key": "", "exact": "1"}], "action": {"action": "keep"}}`, 1), "rules[0].attributes[0].key: empty attribute key"},
	}
	dir := t.TempDir()
	for _, c := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".json")
		if err := os.WriteFile(path, []byte(c.text), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		var problem *PolicyError
		if !errors.As(err, &problem) {
			t.Errorf("%s: got %v, want a *PolicyError", c.name, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not name the file and say %q", c.name, err, c.want)
		}
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json: cannot read the policy: no such file") {
		t.Errorf("missing file: %v", err)
	}
}

func TestSemanticErrorsNameTheLine(t *testing.T) {
	text := `{
  "version": 2,
  "generator": {"tool": "t", "version": "1"},
  "target_reduction": 0.5,
  "default_action": {"action": "keep"},
  "rules": [
    {"id": "a", "match": [{"exact": "x"}], "action": {"action": "keep"}},
    {"id": "b", "match": [{"exact": "y"}],
     "action": {"action": "sample",
                "rate": 7}}
  ]
}`
	path := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if want := path + ": line 10: rules[1].action.rate: rate 7 is outside [0, 1]"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	for field, want := range map[string]int{"version": 2, "rules[0]": 7, "rules[1].id": 8, "rules[1].action": 9, "rules[1].kind": 8, "": 1} {
		if got := lineOfField([]byte(text), field); got != want {
			t.Errorf("%q: line %d, want %d", field, got, want)
		}
	}
}

func TestMustLoadPanicsWithTheError(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(error).Error(), "nowhere.json") {
			t.Errorf("recovered %v", r)
		}
	}()
	MustLoad(filepath.Join(t.TempDir(), "nowhere.json"))
}

func TestVersionOnePoliciesLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.json")
	text := `{"version": 1, "generator": {"tool": "hand-written", "version": "1"}, "target_reduction": 0.5,
 "default_action": {"action": "sample", "rate": 0.5}, "overrides": {"keep_errors": false},
 "structure": {"mode": "reparent"}, "budget": {"spans_per_second": 100},
 "rules": [{"id": "a", "service": "s", "profile": "otel-go", "match": [{"exact": "x"}], "action": {"action": "keep"},
  "evidence": {"score": 3, "function": "main.f", "file": "a.go", "line": 3, "reasons": [{"kind": "hot", "points": -1, "detail": "d"}]}}]}`
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	sampler, err := LoadSampler(path, WithServiceName("s"))
	if err != nil {
		t.Fatal(err)
	}
	if sampler.keepErrors {
		t.Error("keep_errors false was not read")
	}
	if d := sampler.decide("s", "x", 0, nil, make([]byte, 16), ""); !d.Sampled || d.Rule != "a" {
		t.Errorf("decision %+v", d)
	}
}

func TestTheServiceComesFromTheSDKResourceEnvironment(t *testing.T) {
	t.Setenv("OTEL_SERVICE_NAME", "checkout")
	sampler, err := LoadSampler(filepath.Join(conformanceDir, "policies", "precedence.json"))
	if err != nil {
		t.Fatal(err)
	}
	if sampler.service != "checkout" {
		t.Errorf("service %q, want checkout", sampler.service)
	}
	if !strings.Contains(sampler.Description(), "service=checkout") {
		t.Errorf("description %q", sampler.Description())
	}
	if sampler, _ := LoadSampler(filepath.Join(conformanceDir, "policies", "precedence.json"), WithServiceName("a")); sampler.service != "a" {
		t.Errorf("WithServiceName: service %q", sampler.service)
	}
}

func TestGlobsOfBothMatchers(t *testing.T) {
	cases := []struct {
		pattern, text string
		want          bool
	}{
		{"*.css", "a.css", true}, {"*.css", ".css", true}, {"*.css", "a.cs", false},
		{"a*b*c", "abc", true}, {"a*b*c", "aXbYbZc", true}, {"a*b*c", "acb", false},
		{"ab*ba", "aba", false}, {"ab*ba", "abba", true}, {"**", "", true}, {"x", "x", true},
		{"x", "xy", false}, {"é*ü", "é/ü", true}, {"q?z", "qéz", true}, {"q?z", "qz", false},
		{"*?", "", false}, {"*?", "é", true}, {"a*?b", "ab", false}, {"a*?b", "aéb", true},
	}
	for _, c := range cases {
		g := newGlob(c.pattern)
		if got := g.matches(c.text); got != c.want {
			t.Errorf("%q on %q: %v", c.pattern, c.text, got)
		}
		if got := g.matchesRunes(c.text); got != c.want {
			t.Errorf("%q on %q by runes: %v", c.pattern, c.text, got)
		}
	}
}
