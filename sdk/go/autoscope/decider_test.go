package autoscope

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// bruteForceRule is the precedence rule written out: every candidate of every kind
// tested, the lowest rank among those that match winning.
func bruteForceRule(index *matcherIndex, service, name string, kind trace.SpanKind, attributes []attribute.KeyValue) int {
	best := -1
	var bestRank rank
	consider := func(c *candidate) {
		if c.name.matches(name) && c.applies(service, kind, attributes) && (best < 0 || c.rank < bestRank) {
			best, bestRank = c.rule, c.rank
		}
	}
	for _, list := range index.exact {
		for i := range list {
			consider(&list[i])
		}
	}
	for _, list := range [][]candidate{index.templates, index.prefixes, index.globs} {
		for i := range list {
			consider(&list[i])
		}
	}
	return best
}

// globPolicy has globs indexed by prefix, by suffix and by neither, with '?', multi-byte
// characters and U+FFFD (which matches an invalid byte of a name).
func globPolicy(tb testing.TB) string {
	tb.Helper()
	var rules []string
	for i, pattern := range []string{"*.js", "*.css", "a*b", "?x*", "*x?", "ab*cd*ef", "é*", "*é", "GET /a*", "*\ufffd", "\ufffd*", "x?y", "*.ext?", "s*s", "?\ufffd", "\ufffd?", "*"} {
		service := ""
		if i%4 == 1 {
			service = `"service": "checkout", `
		}
		rules = append(rules, fmt.Sprintf(`{"id": "g%d", %s"match": [{"glob": %q}], "action": {"action": "keep"}}`, i, service, pattern))
	}
	policy := `{"version": 2, "generator": {"tool": "test", "version": "1"}, "target_reduction": 0.5,
		"default_action": {"action": "sample", "rate": 0.1}, "rules": [` + strings.Join(rules, ",") + `]}`
	path := filepath.Join(tb.TempDir(), "globs.json")
	if err := os.WriteFile(path, []byte(policy), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// The indexes (exact table, tries, ordered globs) find what the brute force finds, on
// names made from every matcher's text: itself, its prefixes, and with text around.
func TestIndexedLookupEqualsBruteForce(t *testing.T) {
	paths := []string{benchPolicy(t), globPolicy(t)}
	for _, name := range []string{"precedence", "matchers", "conditions", "rates", "randomness"} {
		paths = append(paths, filepath.Join(conformanceDir, "policies", name+".json"))
	}
	attributeSets := [][]attribute.KeyValue{nil, {attribute.String("server.address", "payments"), attribute.String("http.route", "/orders/{id}")}}
	checked := 0
	for _, path := range paths {
		policy, err := readPolicyFile(path)
		if err != nil {
			t.Fatal(err)
		}
		index := newMatcherIndex(*policy.Rules)
		var texts []string
		for _, rule := range *policy.Rules {
			for _, m := range *rule.Match {
				_, text, _ := m.one()
				texts = append(texts, text)
			}
		}
		var names []string
		for _, text := range texts {
			for cut := 0; cut <= len(text); cut++ {
				names = append(names, text[:cut], text[:cut]+"x", text[:cut]+"/y/z", "/"+text[cut:], "x"+text[cut:])
			}
			names = append(names, text+"/1", "é"+text, "\xff"+text, text+"\xff", strings.NewReplacer("\ufffd", "\xff", "?", "q", "*", "").Replace(text))
		}
		for _, name := range names {
			for _, service := range []string{"a", "checkout", "b"} {
				for _, kind := range []trace.SpanKind{trace.SpanKindUnspecified, trace.SpanKindServer, trace.SpanKindClient} {
					for _, attributes := range attributeSets {
						got := index.find(service, name, kind, attributes)
						if want := bruteForceRule(index, service, name, kind, attributes); got != want {
							t.Fatalf("%s: %q in %s: rule %d, want %d", filepath.Base(path), name, service, got, want)
						}
						checked++
					}
				}
			}
		}
	}
	t.Logf("%d lookups checked", checked)
}
