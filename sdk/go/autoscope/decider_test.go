package autoscope

import (
	"path/filepath"
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

// The indexes (exact table, tries, ordered globs) find what the brute force finds, on
// names made from every matcher's text: itself, its prefixes, and with text around.
func TestIndexedLookupEqualsBruteForce(t *testing.T) {
	paths := []string{benchPolicy(t)}
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
				names = append(names, text[:cut], text[:cut]+"x", text[:cut]+"/y/z", "/"+text[cut:])
			}
			names = append(names, text+"/1", "é"+text)
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
