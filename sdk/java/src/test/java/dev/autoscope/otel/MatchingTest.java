package dev.autoscope.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanKind;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Pieces of the decision checked one by one (the conformance vectors check them together). */
class MatchingTest {
    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "0.0|0",
                "-0.0|0",
                "100|100",
                "1e21|1e+21",
                "1e20|100000000000000000000",
                "1.5|1.5",
                "0.000001|0.000001",
                "0.0000001|1e-7",
                "1.5e-7|1.5e-7",
                "4.9e-324|5e-324",
                "2e-323|2e-323",
                "123.456|123.456",
                "0.1|0.1",
                "0.30000000000000004|0.30000000000000004",
                "-7.25|-7.25",
                "1.7976931348623157e308|1.7976931348623157e+308",
                "NaN|NaN",
                "-Infinity|-Infinity",
                // JDK 17's Double.toString writes these with too many digits (9.999999999999999E22,
                // 1.9999999999999998E23, 8.409999999999999E21, 2.82879384806159008E17).
                "1e23|1e+23",
                "2e23|2e+23",
                "8.41e21|8.41e+21",
                "2.82879384806159e17|282879384806159000",
                "9007199254740993|9007199254740992",
            })
    void doublesAsEcmaScriptWritesThem(String value, String expected) {
        assertEquals(expected, CanonicalText.ofDouble(Double.parseDouble(value)));
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "*orders*|/api/orders/1|true",
                "*|''|true",
                "?|é|true",
                "?|\uD83D\uDE00|true",
                "??|\uD83D\uDE00|false",
                "a*b*c|aXbYc|true",
                "a*b*c|aXbY|false",
                "[a]|[a]|true",
            })
    void globs(String pattern, String text, boolean matches) {
        assertEquals(matches, Matcher.of(Matcher.Kind.GLOB, pattern).matches(text));
    }

    /** Star-only globs take the piece search; it must agree with the backtracking matcher. */
    @Test
    void starOnlyGlobsAgreeWithTheBacktrackingMatcher() {
        String[] patterns = {
            "*",
            "**",
            "a*",
            "*a",
            "a*a",
            "*ab*",
            "ab*ba",
            "a*b*a",
            "*.js",
            "/api/*/x*",
            "aa*aa",
            "a**b",
            "",
            "abc"
        };
        String[] texts = {
            "",
            "a",
            "aa",
            "aaa",
            "ab",
            "aba",
            "abba",
            "abab",
            "x.js",
            ".js",
            "/api/v1/x",
            "/api/x",
            "aaaa",
            "aaa" + "aa",
            "a\uD83D\uDE00b",
            "abc",
            "b"
        };
        for (String pattern : patterns) {
            int[] codePoints = pattern.codePoints().toArray();
            for (String text : texts) {
                assertEquals(
                        Matcher.globMatches(codePoints, text),
                        Matcher.of(Matcher.Kind.GLOB, pattern).matches(text),
                        pattern + " on " + text);
            }
        }
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "/a/{x}|/a/1|true",
                "/a/{x}|/a/1/2|false",
                "/a/{x}|/a/|false",
                "/files/{p:**}|/files/a/b|true",
                "{{GET}}/x/{id}|{GET}/x/7|true",
                "/img/{name}.{ext}|/img/a.b.png|true",
                "{verb} /orders/{id:**}|GET /orders/1/items|true",
            })
    void templates(String template, String text, boolean matches) {
        assertEquals(matches, Matcher.of(Matcher.Kind.TEMPLATE, template).matches(text));
    }

    /**
     * The literal-prefix index must keep list precedence: the earlier prefix rule wins over a
     * longer one, a service-scoped rule over an earlier service-less one, and a template that
     * starts with a placeholder (at the trie's root) still competes.
     */
    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "a|/api/v1/orders|short-prefix",
                "a|/api/v2/x|short-prefix",
                "checkout|/api/v1/orders|scoped-long-prefix",
                "a|GET /items|verb-template",
                "a|GET /api/v1/orders|verb-template",
                "a|/b*c|glob-any",
                "a|/bxc|glob-any",
                "a|/b*xc|glob-star",
                "a|zzz|",
            })
    void precedenceThroughTheLiteralIndex(String service, String name, String expected) {
        String policy =
                """
                {"version": 2, "generator": {"tool": "t", "version": "1"}, "target_reduction": 0.5,
                 "default_action": {"action": "keep"},
                 "rules": [
                   {"id": "short-prefix", "match": [{"prefix": "/api"}], "action": {"action": "keep"}},
                   {"id": "long-prefix", "match": [{"prefix": "/api/v1/"}], "action": {"action": "keep"}},
                   {"id": "scoped-long-prefix", "service": "checkout", "match": [{"prefix": "/api/v1/o"}],
                    "action": {"action": "keep"}},
                   {"id": "verb-template", "match": [{"template": "{verb} /{rest:**}"}],
                    "action": {"action": "keep"}},
                   {"id": "glob-any", "match": [{"glob": "/b?c"}], "action": {"action": "keep"}},
                   {"id": "glob-star", "match": [{"glob": "/b*c"}], "action": {"action": "keep"}}
                 ]}
                """;
        Decider decider =
                new Decider(Policy.parse(policy.getBytes(StandardCharsets.UTF_8), "<test>"));
        Decider.CompiledRule rule =
                decider.ruleFor(service, name, SpanKind.INTERNAL, Attributes.empty());
        assertEquals(expected, rule == null ? null : rule.rule.id());
    }

    @ParameterizedTest
    @CsvSource({
        "0.0, 100000000000000",
        "1.0, 00000000000000",
        "0.5, 80000000000000",
        "0.25, c0000000000000"
    })
    void thresholds(double rate, String hex) {
        assertEquals(hex, Consistent.hex14(Consistent.threshold(rate)));
    }
}
