package dev.autoscope.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Loading policies: what loads, and the error for what does not. */
class PolicyTest {
    @TempDir Path folder;

    private static final String HEAD =
            "\"version\": 2, \"generator\": {\"tool\": \"t\", \"version\": \"1\"}, \"target_reduction\": 0.5, ";

    private String loadError(String text) {
        Path path = Policies.write(folder, "policy.json", text);
        PolicyException error = assertThrows(PolicyException.class, () -> Policy.load(path));
        assertTrue(error.getMessage().startsWith(path + ": "), error.getMessage());
        return error.getMessage().substring(path.toString().length() + 2);
    }

    @Test
    void everyConformancePolicyLoads() {
        for (String name :
                new String[] {"conditions", "matchers", "precedence", "randomness", "rates"}) {
            Policy.load(ConformanceTest.VECTORS.resolve("policies").resolve(name + ".json"));
        }
    }

    @Test
    void repositoryPoliciesLoad() throws Exception {
        // The example policies and what the analyzer writes for the test projects (all
        // valid for the Rust loader) load here too.
        try (var files = java.nio.file.Files.walk(Path.of("..", "..", "testdata"))) {
            List<Path> policies =
                    files.filter(
                                    p ->
                                            p.getFileName().toString().endsWith("policy.json")
                                                    || (p.getParent().endsWith("policies")
                                                            && p.toString().endsWith(".json")))
                            .sorted()
                            .toList();
            assertTrue(policies.size() >= 5, "policies found: " + policies);
            for (Path policy : policies) {
                Policy.load(policy);
            }
        }
    }

    @Test
    void versionOnePolicyWithoutConditionsLoadsAndKeepsDefaults() {
        Path path =
                Policies.write(
                        folder,
                        "v1.json",
                        "{\"version\": 1, \"generator\": {\"tool\": \"t\", \"version\": \"1\"}, \"target_reduction\": 0.5,"
                                + " \"default_action\": {\"action\": \"keep\"}, \"rules\": []}");
        Policy policy = Policy.load(path);
        assertTrue(policy.keepsErrors(), "keep_errors defaults to true");
        assertTrue(policy.hasLatencyOverride(), "the latency override is on by default");
    }

    @Test
    void missingFile() {
        Path path = folder.resolve("absent.json");
        PolicyException error = assertThrows(PolicyException.class, () -> Policy.load(path));
        assertEquals(path + ": cannot read the policy: no such file", error.getMessage());
    }

    @Test
    void folderInsteadOfFile() {
        PolicyException error = assertThrows(PolicyException.class, () -> Policy.load(folder));
        assertEquals(
                folder + ": cannot read the policy: it is a folder, not a file",
                error.getMessage());
    }

    @Test
    void emptyFile() {
        assertEquals("empty: expected a policy (a JSON object)", loadError("  \n"));
    }

    @Test
    void syntaxErrorHasLineAndColumn() {
        String message = loadError("{\n  \"version\": 2,\n  \"rules\": [,]\n}");
        assertTrue(message.startsWith("line 3, column "), message);
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "\"default_action\": {\"action\": \"sample\", \"rate\": 1.5}, \"rules\": []"
                        + "|default_action.rate: rate 1.5 is outside [0, 1]",
                "\"default_action\": {\"action\": \"keep\"}, \"rules\": [], \"extra\": 1"
                        + "|extra: unknown field",
                "\"default_action\": {\"action\": \"keep\"}, \"rules\": [{\"id\": \"a\", \"match\": [{\"template\": \"/a/{x}{y}\"}], \"action\": {\"action\": \"keep\"}}]"
                        + "|rules[0].match[0].template: invalid template \"/a/{x}{y}\": placeholders \"x\" and \"y\" are adjacent",
                "\"default_action\": {\"action\": \"keep\"}, \"rules\": [{\"id\": \"a\", \"match\": [{\"exact\": \"x\"}], \"action\": {\"action\": \"keep\"}}, {\"id\": \"a\", \"match\": [{\"exact\": \"y\"}], \"action\": {\"action\": \"keep\"}}]"
                        + "|rules[1].id: duplicate rule id \"a\" (first used by rules[0])",
                "\"default_action\": {\"action\": \"keep\"}, \"rules\": [{\"id\": \"a\", \"match\": [], \"action\": {\"action\": \"keep\"}}]"
                        + "|rules[0].match: a rule needs at least one matcher",
                "\"default_action\": {\"action\": \"keep\"}, \"rules\": [{\"id\": \"a\", \"match\": [{\"regex\": \"x\"}], \"action\": {\"action\": \"keep\"}}]"
                        + "|rules[0].match[0].regex: unknown matcher",
                "\"default_action\": {\"action\": \"keep\"}, \"rules\": [{\"id\": \"a\", \"match\": [{\"exact\": \"x\"}], \"kind\": \"sideways\", \"action\": {\"action\": \"keep\"}}]"
                        + "|rules[0].kind: unknown kind \"sideways\"",
                "\"default_action\": {\"action\": \"keep\"}, \"rules\": [{\"id\": \"a\", \"match\": [{\"exact\": \"x\"}], \"attributes\": [{\"key\": \"k\", \"exact\": \"1\", \"prefix\": \"2\"}], \"action\": {\"action\": \"keep\"}}]"
                        + "|rules[0].attributes[0]: attribute condition on \"k\" needs exactly one of",
                "\"default_action\": {\"action\": \"discard\"}, \"rules\": []"
                        + "|default_action.action: unknown action \"discard\"",
                "\"default_action\": {\"action\": \"keep\"}" + "|rules: missing field",
                "\"default_action\": {\"action\": \"keep\"}, \"rules\": [], \"overrides\": {\"latency\": {\"window\": 0, \"threshold\": 6, \"min_samples\": 3}}"
                        + "|overrides.latency.window: window must be at least 1",
            })
    void invalidPolicies(String body, String expectedStart) {
        String message = loadError("{" + HEAD + body + "}");
        assertTrue(message.startsWith(expectedStart), message);
    }

    @Test
    void unknownVersion() {
        String message =
                loadError(
                        "{\"version\": 3, \"generator\": {\"tool\": \"t\", \"version\": \"1\"}, \"target_reduction\": 0.5,"
                                + " \"default_action\": {\"action\": \"keep\"}, \"rules\": []}");
        assertEquals("version: unknown version 3 (this build reads versions 1 to 2)", message);
    }

    @Test
    void conditionsNeedVersionTwo() {
        String message =
                loadError(
                        "{\"version\": 1, \"generator\": {\"tool\": \"t\", \"version\": \"1\"}, \"target_reduction\": 0.5,"
                                + " \"default_action\": {\"action\": \"keep\"}, \"rules\": [{\"id\": \"a\", \"match\": [{\"exact\": \"x\"}],"
                                + " \"kind\": \"client\", \"action\": {\"action\": \"keep\"}}]}");
        assertTrue(
                message.startsWith("rules[0].kind: kind conditions need policy version 2"),
                message);
    }

    @Test
    void duplicateKeysAreRejected() {
        String message =
                loadError(
                        "{"
                                + HEAD
                                + "\"default_action\": {\"action\": \"keep\"}, \"rules\": [], \"rules\": []}");
        assertTrue(message.contains("rules"), message);
        assertFalse(message.isEmpty());
    }
}
