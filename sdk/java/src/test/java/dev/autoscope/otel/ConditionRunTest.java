package dev.autoscope.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanKind;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs of rules on one exact name that test one key for exact text are decided by one lookup of the
 * attribute's text: the same rule wins as when each rule is tried in precedence order.
 */
class ConditionRunTest {
    private static String rule(String id, String service, String kind, String condition) {
        return "{\"id\": \""
                + id
                + "\", "
                + (service == null ? "" : "\"service\": \"" + service + "\", ")
                + (kind == null ? "" : "\"kind\": \"" + kind + "\", ")
                + "\"match\": [{\"exact\": \"GET\"}], "
                + (condition == null ? "" : "\"attributes\": [" + condition + "], ")
                + "\"action\": {\"action\": \"keep\"}}";
    }

    private static String host(String text) {
        return "{\"key\": \"server.address\", \"exact\": \"" + text + "\"}";
    }

    @Test
    void runsOfExactConditionsKeepPrecedence(@TempDir Path folder) {
        String rules =
                String.join(
                        ", ",
                        rule("a", null, "client", host("h1")),
                        rule("b", null, "client", host("h2")),
                        rule("c", null, "client", host("h2")),
                        rule("d", null, "client", host("h3")),
                        rule("e", "checkout", "client", host("h3")),
                        rule("f", "checkout", "client", host("h4")),
                        rule("g", "checkout", "client", host("h5")),
                        rule("h", null, null, "{\"key\": \"server.address\", \"prefix\": \"h\"}"),
                        rule("i", null, "client", "{\"key\": \"port\", \"exact\": \"8080\"}"),
                        rule("j", null, null, null));
        Path file =
                Policies.write(
                        folder,
                        "policy.json",
                        "{\"version\": 2, \"generator\": {\"tool\": \"test\", \"version\": \"1\"},"
                                + " \"target_reduction\": 0.5,"
                                + " \"default_action\": {\"action\": \"sample\", \"rate\": 0.5},"
                                + " \"rules\": ["
                                + rules
                                + "]}");
        AutoscopeSampler sampler = AutoscopeSampler.load(file, "other");
        AttributeKey<String> address = AttributeKey.stringKey("server.address");
        Object[][] cases = {
            {"other", SpanKind.CLIENT, Attributes.of(address, "h1"), "a"},
            {"other", SpanKind.CLIENT, Attributes.of(address, "h2"), "b"},
            {"other", SpanKind.CLIENT, Attributes.of(address, "h3"), "d"},
            {"checkout", SpanKind.CLIENT, Attributes.of(address, "h3"), "e"},
            {"checkout", SpanKind.CLIENT, Attributes.of(address, "h1"), "a"},
            {"checkout", SpanKind.CLIENT, Attributes.of(address, "h5"), "g"},
            {"other", SpanKind.CLIENT, Attributes.of(address, "h5"), "h"},
            {"other", SpanKind.CLIENT, Attributes.of(address, "hx"), "h"},
            {"other", SpanKind.SERVER, Attributes.of(address, "h1"), "h"},
            {"other", SpanKind.CLIENT, Attributes.of(AttributeKey.longKey("port"), 8080L), "i"},
            {
                "other",
                SpanKind.CLIENT,
                Attributes.of(AttributeKey.longKey("server.address"), 1L),
                "j"
            },
            {"other", SpanKind.CLIENT, Attributes.empty(), "j"},
            {"checkout", SpanKind.SERVER, Attributes.of(address, "h4"), "h"},
        };
        for (Object[] c : cases) {
            Decision decision =
                    sampler.decide((String) c[0], "GET", (SpanKind) c[1], (Attributes) c[2], 0L);
            assertEquals(c[3], decision.rule(), () -> java.util.Arrays.toString(c));
        }
    }
}
