package dev.autoscope.otel;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanKind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Finds the deciding rule of a span (conformance/README.md, "1. The deciding rule"): among matching
 * rules the smallest (matcher kind, has no service, has no conditions, index) wins. Exact names are
 * looked up in a hash map whose lists are in precedence order, so the first rule whose conditions
 * hold wins; the other matchers are tried kind by kind through a radix tree of their literal
 * prefixes ({@link LiteralIndex}). Nothing is allocated per decision.
 */
final class Decider {
    /** A rule as the decider holds it, with what a decision needs precomputed. */
    static final class CompiledRule {
        final Policy.Rule rule;
        final int index;
        final long threshold;
        final CompiledCondition[] conditions;

        CompiledRule(Policy.Rule rule, int index) {
            this.rule = rule;
            this.index = index;
            this.threshold = rule.action().threshold();
            this.conditions =
                    rule.attributes().stream()
                            .map(CompiledCondition::new)
                            .toArray(CompiledCondition[]::new);
        }

        /** The rule's service and conditions hold (its name matcher matched already). */
        boolean appliesTo(String service, SpanKind kind, Attributes attributes) {
            if (!inScope(service, kind)) {
                return false;
            }
            for (CompiledCondition condition : conditions) {
                if (!condition.holds(attributes)) {
                    return false;
                }
            }
            return true;
        }

        /** The rule's service and kind hold. */
        boolean inScope(String service, SpanKind kind) {
            return (rule.service() == null || rule.service().equals(service))
                    && (rule.kind() == null || rule.kind() == kind);
        }

        /**
         * Precedence inside one matcher kind: service-scoped first, then conditional, then index.
         */
        int rank() {
            return (rule.service() != null ? 0 : 2) + (rule.hasConditions() ? 0 : 1);
        }
    }

    /** An attribute condition with its keys made once, so a lookup allocates nothing. */
    static final class CompiledCondition {
        /** Interned, so conditions of several rules on one key compare by identity. */
        final String key;

        final Matcher matcher;
        final AttributeKey<String> stringKey;
        final AttributeKey<Long> longKey;
        final AttributeKey<Boolean> booleanKey;
        final AttributeKey<Double> doubleKey;

        CompiledCondition(Policy.AttributeCondition condition) {
            this.key = condition.key().intern();
            this.matcher = condition.matcher();
            this.stringKey = AttributeKey.stringKey(condition.key());
            this.longKey = AttributeKey.longKey(condition.key());
            this.booleanKey = AttributeKey.booleanKey(condition.key());
            this.doubleKey = AttributeKey.doubleKey(condition.key());
        }

        boolean holds(Attributes attributes) {
            String text = text(attributes);
            return text != null && matcher.matches(text);
        }

        /** The canonical text of the attribute, null when absent or of another type. */
        String text(Attributes attributes) {
            Object value = attributes.get(stringKey);
            if (value == null) {
                value = attributes.get(longKey);
            }
            if (value == null) {
                value = attributes.get(booleanKey);
            }
            if (value == null) {
                value = attributes.get(doubleKey);
            }
            return value == null ? null : CanonicalText.of(value);
        }
    }

    /**
     * A name matcher of a rule; {@code matcherId} numbers the matchers of the whole policy, rule by
     * rule, matcher by matcher (as the runtime's latency windows are keyed).
     */
    record Entry(Matcher matcher, CompiledRule rule, int matcherId, long precedence) {
        Entry(Matcher matcher, CompiledRule rule, int matcherId) {
            // Within one matcher kind: rank, then rule index, then the rule's matcher order
            // (policies have far fewer than 2^30 rules and matchers).
            this(
                    matcher,
                    rule,
                    matcherId,
                    ((long) rule.rank() << 60) | ((long) rule.index << 30) | matcherId);
        }
    }

    /** Exact names to their entries in precedence order (one per rule), in runs. */
    private final Map<String, ExactRun[]> exact;

    /**
     * Consecutive entries on one exact name. A run of {@link #INDEXED_RUN} or more rules with the
     * same service and kind, each with one condition, on the same key, matching exact text (the
     * rules on {@code GET} client spans per {@code server.address}) is one run whose entries are
     * found by the attribute's text in one hash lookup: the first entry with that text is the first
     * of the run whose condition holds. Any other entry is a run of its own.
     */
    private static final class ExactRun {
        final Entry first;

        /** The shared condition's key (any one of them), null when the run is not indexed. */
        final CompiledCondition condition;

        /** The first entry of the run for each condition text; null when not indexed. */
        final Map<String, Entry> byText;

        ExactRun(Entry first, CompiledCondition condition, Map<String, Entry> byText) {
            this.first = first;
            this.condition = condition;
            this.byText = byText;
        }
    }

    private static final int INDEXED_RUN = 3;

    /** The entry's rule has one condition, matching exact text: its key, else null. */
    private static CompiledCondition soleExactCondition(Entry entry) {
        CompiledCondition[] conditions = entry.rule.conditions;
        return conditions.length == 1 && conditions[0].matcher.kind == Matcher.Kind.EXACT
                ? conditions[0]
                : null;
    }

    private static boolean sameRun(Entry first, Entry entry) {
        CompiledCondition a = soleExactCondition(first);
        CompiledCondition b = soleExactCondition(entry);
        return a != null
                && b != null
                && a.key.equals(b.key)
                && Objects.equals(first.rule.rule.service(), entry.rule.rule.service())
                && first.rule.rule.kind() == entry.rule.rule.kind();
    }

    private static ExactRun[] runs(List<Entry> entries) {
        List<ExactRun> runs = new ArrayList<>();
        for (int i = 0; i < entries.size(); ) {
            int end = i + 1;
            while (end < entries.size() && sameRun(entries.get(i), entries.get(end))) {
                end++;
            }
            if (end - i >= INDEXED_RUN) {
                Map<String, Entry> byText = new HashMap<>();
                for (Entry entry : entries.subList(i, end)) {
                    byText.putIfAbsent(soleExactCondition(entry).matcher.text, entry);
                }
                runs.add(new ExactRun(entries.get(i), soleExactCondition(entries.get(i)), byText));
                i = end;
            } else {
                runs.add(new ExactRun(entries.get(i), null, null));
                i++;
            }
        }
        return runs.toArray(new ExactRun[0]);
    }

    /** Template, prefix and glob entries, one index per kind. */
    private final LiteralIndex[] others;

    /**
     * The globs whose literal suffix is longer than their literal prefix, by suffix (the others are
     * in {@code others[2]} by prefix), so {@code *.js} is tried only on names ending with it.
     */
    private final LiteralIndex globSuffixes;

    final long defaultThreshold;
    final List<CompiledRule> rules;

    Decider(Policy policy) {
        List<CompiledRule> compiled = new ArrayList<>();
        Map<String, List<Entry>> exactLists = new HashMap<>();
        List<List<Entry>> otherLists =
                List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        int matcherId = 0;
        for (int i = 0; i < policy.rules.size(); i++) {
            CompiledRule rule = new CompiledRule(policy.rules.get(i), i);
            compiled.add(rule);
            for (Matcher matcher : rule.rule.matchers()) {
                Entry entry = new Entry(matcher, rule, matcherId++);
                if (matcher.kind == Matcher.Kind.EXACT) {
                    List<Entry> list =
                            exactLists.computeIfAbsent(matcher.text, name -> new ArrayList<>());
                    if (list.stream().noneMatch(e -> e.rule == rule)) {
                        list.add(entry);
                    }
                } else {
                    otherLists.get(matcher.kind.ordinal() - 1).add(entry);
                }
            }
        }
        this.exact = new HashMap<>();
        exactLists.forEach(
                (name, list) -> {
                    list.sort(ENTRY_PRECEDENCE);
                    exact.put(name, runs(list));
                });
        this.others = new LiteralIndex[3];
        List<Entry> byPrefix = new ArrayList<>();
        List<Entry> bySuffix = new ArrayList<>();
        for (Entry entry : otherLists.get(2)) {
            boolean suffixLonger =
                    entry.matcher.literalSuffix().length() > entry.matcher.literalPrefix().length();
            (suffixLonger ? bySuffix : byPrefix).add(entry);
        }
        otherLists = List.of(otherLists.get(0), otherLists.get(1), byPrefix);
        for (int k = 0; k < 3; k++) {
            others[k] = new LiteralIndex(otherLists.get(k), false);
        }
        this.globSuffixes = new LiteralIndex(bySuffix, true);
        this.defaultThreshold = policy.defaultAction.threshold();
        this.rules = List.copyOf(compiled);
    }

    /** The deciding rule of a span, or null when the default action decides. */
    CompiledRule ruleFor(String service, String name, SpanKind kind, Attributes attributes) {
        Entry entry = winner(service, name, kind, attributes);
        return entry == null ? null : entry.rule;
    }

    /** The matching name matcher of the deciding rule, or null when no rule matches. */
    Entry winner(String service, String name, SpanKind kind, Attributes attributes) {
        ExactRun[] byName = exact.get(name);
        if (byName != null) {
            // Rules on one name often test one key (the host of a `GET` client span): look
            // each key up once while consecutive conditions ask for it.
            String lastKey = null;
            String lastText = null;
            for (ExactRun run : byName) {
                Entry entry = run.first;
                CompiledRule rule = entry.rule;
                if (!rule.inScope(service, kind)) {
                    continue;
                }
                if (run.byText != null) {
                    if (run.condition.key != lastKey) {
                        lastKey = run.condition.key;
                        lastText = run.condition.text(attributes);
                    }
                    Entry found = lastText == null ? null : run.byText.get(lastText);
                    if (found != null) {
                        return found;
                    }
                    continue;
                }
                boolean holds = true;
                for (CompiledCondition condition : rule.conditions) {
                    if (condition.key != lastKey) {
                        lastKey = condition.key;
                        lastText = condition.text(attributes);
                    }
                    if (lastText == null || !condition.matcher.matches(lastText)) {
                        holds = false;
                        break;
                    }
                }
                if (holds) {
                    return entry;
                }
            }
        }
        for (int k = 0; k < others.length; k++) {
            Entry entry = others[k].winner(service, name, kind, attributes, null);
            if (k == 2) {
                entry = globSuffixes.winner(service, name, kind, attributes, entry);
            }
            if (entry != null) {
                return entry;
            }
        }
        return null;
    }

    private static final Comparator<Entry> ENTRY_PRECEDENCE =
            Comparator.comparingLong(Entry::precedence);

    /**
     * The matchers of one kind in a trie of their literal prefixes (a template's text before its
     * first placeholder, a glob's before its first wildcard, a prefix itself), so a name is checked
     * only against the matchers whose literal text it starts with. Walking the name down the trie,
     * each node's entries are tried in precedence order and the best match so far is kept; no
     * allocation.
     */
    private static final class LiteralIndex {
        private static final class Node {
            /** The text of the edge into this node (its first character is the parent's key). */
            String label = "";

            char[] keys = new char[0];
            Node[] children = new Node[0];
            Entry[] entries = new Entry[0];
        }

        private final Node root = new Node();

        /** Whether this index holds literal suffixes, reversed, and walks names from their end. */
        private final boolean reversed;

        LiteralIndex(List<Entry> entries, boolean reversed) {
            this.reversed = reversed;
            for (Entry entry : entries) {
                Node node = root;
                String literal =
                        reversed ? entry.matcher.literalSuffix() : entry.matcher.literalPrefix();
                for (int i = 0; i < literal.length(); i++) {
                    node = child(node, literal.charAt(reversed ? literal.length() - 1 - i : i));
                }
                node.entries = Arrays.copyOf(node.entries, node.entries.length + 1);
                node.entries[node.entries.length - 1] = entry;
            }
            sortEntries(root);
            compress(root);
        }

        /**
         * Folds chains of nodes without entries and with one child into one edge (a radix tree).
         */
        private static void compress(Node node) {
            for (int i = 0; i < node.children.length; i++) {
                Node child = node.children[i];
                StringBuilder label = new StringBuilder().append(node.keys[i]);
                while (child.entries.length == 0 && child.children.length == 1) {
                    label.append(child.keys[0]);
                    child = child.children[0];
                }
                child.label = label.toString();
                node.children[i] = child;
                compress(child);
            }
        }

        private static Node child(Node node, char c) {
            int at = Arrays.binarySearch(node.keys, c);
            if (at >= 0) {
                return node.children[at];
            }
            int insert = -at - 1;
            char[] keys = new char[node.keys.length + 1];
            Node[] children = new Node[node.children.length + 1];
            System.arraycopy(node.keys, 0, keys, 0, insert);
            System.arraycopy(node.children, 0, children, 0, insert);
            keys[insert] = c;
            children[insert] = new Node();
            System.arraycopy(node.keys, insert, keys, insert + 1, node.keys.length - insert);
            System.arraycopy(
                    node.children, insert, children, insert + 1, node.children.length - insert);
            node.keys = keys;
            node.children = children;
            return children[insert];
        }

        private static void sortEntries(Node node) {
            Arrays.sort(node.entries, ENTRY_PRECEDENCE);
            for (Node child : node.children) {
                sortEntries(child);
            }
        }

        /** The name continues with the label {@code depth} characters from its start (or end). */
        private boolean labelMatches(String label, String name, int depth) {
            if (!reversed) {
                return name.startsWith(label, depth);
            }
            int end = name.length() - 1 - depth;
            if (end + 1 < label.length()) {
                return false;
            }
            for (int i = 0; i < label.length(); i++) {
                if (name.charAt(end - i) != label.charAt(i)) {
                    return false;
                }
            }
            return true;
        }

        /** The best entry matching the span, or {@code best} when none ranks before it. */
        Entry winner(
                String service, String name, SpanKind kind, Attributes attributes, Entry best) {
            Node node = root;
            int depth = 0;
            while (true) {
                for (Entry entry : node.entries) {
                    if (best != null && entry.precedence >= best.precedence) {
                        break;
                    }
                    boolean named =
                            reversed
                                    ? entry.matcher.matches(name)
                                    : entry.matcher.matchesKnowingPrefix(name);
                    if (named && entry.rule.appliesTo(service, kind, attributes)) {
                        best = entry;
                        break;
                    }
                }
                if (depth == name.length()) {
                    return best;
                }
                int at =
                        Arrays.binarySearch(
                                node.keys,
                                name.charAt(reversed ? name.length() - 1 - depth : depth));
                if (at < 0 || !labelMatches(node.children[at].label, name, depth)) {
                    return best;
                }
                node = node.children[at];
                depth += node.label.length();
            }
        }
    }

    /** How many name matchers the policy has ({@link Entry#matcherId} is below it). */
    int matcherCount() {
        int count = 0;
        for (CompiledRule rule : rules) {
            count += rule.rule.matchers().size();
        }
        return count;
    }
}
