package autoscope

import (
	"sort"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// The deciding rule of a span (conformance/README.md, "1. The deciding rule"): among
// the matching rules the smallest (matcher kind, service-less, unconditional, rule
// index) wins. Each kind's candidates are kept sorted by that rank, and the kinds are
// tried in order, so the first candidate that applies is the winner.

type rank uint64

func rankOf(kind matchKind, hasService, hasConditions bool, rule int) rank {
	r := rank(kind) << 40
	if !hasService {
		r |= 1 << 33
	}
	if !hasConditions {
		r |= 1 << 32
	}
	return r | rank(rule)
}

// condition is one attribute condition, compiled.
type condition struct {
	key  attribute.Key
	text valueMatcher
}

type valueMatcher struct {
	kind     matchKind
	text     string
	template *template
	glob     glob
}

func (m *valueMatcher) matches(text string) bool {
	switch m.kind {
	case exactMatch:
		return text == m.text
	case prefixMatch:
		return strings.HasPrefix(text, m.text)
	case templateMatch:
		return m.template.matches(text)
	default:
		return m.glob.matches(text)
	}
}

// candidate is one name matcher of one rule.
type candidate struct {
	rank rank
	rule int
	// matcher is the matcher's index over the whole policy (rule by rule, matcher by
	// matcher): the latency override's window of spans it decides.
	matcher    int
	hasService bool
	service    string
	kind       trace.SpanKind // 0 (unspecified): no kind condition
	conditions []condition
	name       valueMatcher
}

// applies checks the service and the conditions (the name matched already).
func (c *candidate) applies(service string, kind trace.SpanKind, attributes []attribute.KeyValue) bool {
	if c.hasService && c.service != service {
		return false
	}
	if c.kind != trace.SpanKindUnspecified && c.kind != kind {
		return false
	}
	for i := range c.conditions {
		if !conditionHolds(&c.conditions[i], attributes) {
			return false
		}
	}
	return true
}

func conditionHolds(cond *condition, attributes []attribute.KeyValue) bool {
	for _, kv := range attributes {
		if kv.Key == cond.key {
			text, ok := canonicalText(kv.Value)
			return ok && cond.text.matches(text)
		}
	}
	return false
}

// matcherIndex holds a policy's name matchers by kind.
type matcherIndex struct {
	exact     map[string][]candidate
	templates []candidate
	prefixes  []candidate
	globs     []candidate
	// templateTrie and prefixTrie index templates and prefixes by literal prefix.
	templateTrie prefixTrie
	prefixTrie   prefixTrie
	// globPrefixes and globSuffixes index each glob by the longer of its literal
	// prefix and suffix, so a name is tried only against globs it could match.
	globPrefixes prefixTrie
	globSuffixes prefixTrie
}

var kindOfName = map[string]trace.SpanKind{
	"server":   trace.SpanKindServer,
	"client":   trace.SpanKindClient,
	"producer": trace.SpanKindProducer,
	"consumer": trace.SpanKindConsumer,
	"internal": trace.SpanKindInternal,
}

func compileMatcher(kind matchKind, text string) valueMatcher {
	m := valueMatcher{kind: kind, text: text}
	switch kind {
	case templateMatch:
		// The loader has parsed every template already.
		m.template, _ = parseTemplate(text)
	case globMatch:
		m.glob = newGlob(text)
	}
	return m
}

func newMatcherIndex(rules []ruleFile) *matcherIndex {
	index := &matcherIndex{exact: map[string][]candidate{}}
	matcherID := 0
	for i, rule := range rules {
		var conditions []condition
		for _, c := range rule.Attributes {
			kind, text, _ := c.one()
			conditions = append(conditions, condition{key: attribute.Key(*c.Key), text: compileMatcher(kind, text)})
		}
		var spanKind trace.SpanKind
		if rule.Kind != nil {
			spanKind = kindOfName[*rule.Kind]
		}
		for _, m := range *rule.Match {
			kind, text, _ := m.one()
			c := candidate{
				rank:       rankOf(kind, rule.Service != nil, rule.Kind != nil || len(conditions) > 0, i),
				rule:       i,
				matcher:    matcherID,
				hasService: rule.Service != nil,
				kind:       spanKind,
				conditions: conditions,
				name:       compileMatcher(kind, text),
			}
			matcherID++
			if rule.Service != nil {
				c.service = *rule.Service
			}
			switch kind {
			case exactMatch:
				index.exact[text] = append(index.exact[text], c)
			case templateMatch:
				index.templates = append(index.templates, c)
			case prefixMatch:
				index.prefixes = append(index.prefixes, c)
			case globMatch:
				index.globs = append(index.globs, c)
			}
		}
	}
	byRank := func(list []candidate) {
		sort.Slice(list, func(a, b int) bool { return list[a].rank < list[b].rank })
	}
	for _, list := range index.exact {
		byRank(list)
	}
	byRank(index.templates)
	byRank(index.prefixes)
	byRank(index.globs)
	for i := range index.templates {
		index.templateTrie.insert(index.templates[i].name.template.literalPrefix(), i)
	}
	for i := range index.prefixes {
		index.prefixTrie.insert(index.prefixes[i].name.text, i)
	}
	index.globSuffixes.reversed = true
	for i := range index.globs {
		prefix, suffix := index.globs[i].name.glob.literals()
		if len(prefix) >= len(suffix) {
			index.globPrefixes.insert(prefix, i)
		} else {
			index.globSuffixes.insert(suffix, i)
		}
	}
	index.templateTrie.finish()
	index.prefixTrie.finish()
	index.globPrefixes.finish()
	index.globSuffixes.finish()
	return index
}

// find is the index of the rule deciding the span, or -1 for the default action.
func (index *matcherIndex) find(service, name string, kind trace.SpanKind, attributes []attribute.KeyValue) int {
	if c := index.candidateFor(service, name, kind, attributes); c != nil {
		return c.rule
	}
	return -1
}

// candidateFor is the candidate deciding the span, or nil for the default action.
func (index *matcherIndex) candidateFor(service, name string, kind trace.SpanKind, attributes []attribute.KeyValue) *candidate {
	if list, ok := index.exact[name]; ok {
		for i := range list {
			if list[i].applies(service, kind, attributes) {
				return &list[i]
			}
		}
	}
	if best := index.templateTrie.best(name, index.templates, func(c *candidate) bool {
		return c.name.template.matchesAfterPrefix(name) && c.applies(service, kind, attributes)
	}, -1); best >= 0 {
		return &index.templates[best]
	}
	if best := index.prefixTrie.best(name, index.prefixes, func(c *candidate) bool {
		return c.applies(service, kind, attributes)
	}, -1); best >= 0 {
		return &index.prefixes[best]
	}
	globHolds := func(c *candidate) bool {
		return c.name.glob.matches(name) && c.applies(service, kind, attributes)
	}
	best := index.globPrefixes.best(name, index.globs, globHolds, -1)
	if best = index.globSuffixes.best(name, index.globs, globHolds, best); best >= 0 {
		return &index.globs[best]
	}
	return nil
}
