package dev.autoscope.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanKind;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The indexes of templates, prefixes and globs (by literal prefix, globs also by literal suffix)
 * find the rule that trying every rule in precedence order finds.
 */
class LiteralIndexTest {
    private static final String[][] MATCHERS = {
        {"glob", "*.js"},
        {"glob", "*.css"},
        {"glob", "a*b"},
        {"glob", "?x*"},
        {"glob", "*x?"},
        {"glob", "ab*cd*ef"},
        {"glob", "é*"},
        {"glob", "*é"},
        {"glob", "GET /a*"},
        {"glob", "x?y"},
        {"glob", "*.ext?"},
        {"glob", "s*s"},
        {"glob", "*\uD83D\uDE00"},
        {"glob", "?\uD83D\uDE00"},
        {"template", "/orders/{id}"},
        {"template", "/orders/{id}/items/{item}"},
        {"template", "{a}.{b}"},
        {"template", "/files/{path:**}"},
        {"prefix", "/orders/"},
        {"prefix", "GET /"},
        {"glob", "*"},
    };

    /**
     * The deciding rule's id by brute force: the least (kind, service-less, conditional, index).
     */
    private static String bruteForce(Policy policy, String service, String name) {
        String best = null;
        long bestRank = Long.MAX_VALUE;
        for (int i = 0; i < policy.rules.size(); i++) {
            Policy.Rule rule = policy.rules.get(i);
            if (rule.service() != null && !rule.service().equals(service)) {
                continue;
            }
            for (Matcher matcher : rule.matchers()) {
                if (!matcher.matches(name)) {
                    continue;
                }
                long rank =
                        ((long) matcher.kind.ordinal() << 40)
                                | (rule.service() == null ? 1L << 33 : 0)
                                | (rule.hasConditions() ? 0 : 1L << 32)
                                | i;
                if (rank < bestRank) {
                    bestRank = rank;
                    best = rule.id();
                }
            }
        }
        return best;
    }

    @Test
    void indexedLookupEqualsBruteForce(@TempDir Path folder) {
        List<String> rules = new ArrayList<>();
        for (int i = 0; i < MATCHERS.length; i++) {
            rules.add(
                    "{\"id\": \"r"
                            + i
                            + "\", "
                            + (i % 4 == 1 ? "\"service\": \"checkout\", " : "")
                            + "\"match\": [{\""
                            + MATCHERS[i][0]
                            + "\": \""
                            + MATCHERS[i][1]
                            + "\"}], \"action\": {\"action\": \"keep\"}}");
        }
        Path file =
                Policies.write(
                        folder,
                        "policy.json",
                        "{\"version\": 2, \"generator\": {\"tool\": \"test\", \"version\": \"1\"},"
                                + " \"target_reduction\": 0.5,"
                                + " \"default_action\": {\"action\": \"sample\", \"rate\": 0.5},"
                                + " \"rules\": ["
                                + String.join(", ", rules)
                                + "]}");
        AutoscopeSampler sampler = AutoscopeSampler.load(file, "checkout");
        List<String> names = new ArrayList<>();
        for (String[] matcher : MATCHERS) {
            String text = matcher[1];
            for (int cut = 0; cut <= text.length(); cut++) {
                String head = text.substring(0, cut);
                String tail = text.substring(cut);
                names.add(head);
                names.add(head + "x");
                names.add(head + "/y/z");
                names.add("/" + tail);
                names.add("x" + tail);
                names.add("\uD83D" + tail);
            }
            names.add(text.replace("?", "q").replace("*", "").replace("{", "").replace("}", ""));
            names.add(text + "/1");
            names.add("é" + text);
        }
        int checked = 0;
        for (String name : names) {
            for (String service : List.of("checkout", "other")) {
                Decision decision =
                        sampler.decide(service, name, SpanKind.SERVER, Attributes.empty(), 0L);
                assertEquals(
                        bruteForce(sampler.policy(), service, name),
                        decision.rule(),
                        () -> service + " " + name);
                checked++;
            }
        }
        assertEquals(names.size() * 2, checked);
    }
}
