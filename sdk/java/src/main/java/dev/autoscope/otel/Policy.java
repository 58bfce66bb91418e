package dev.autoscope.otel;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.opentelemetry.api.trace.SpanKind;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An Autoscope sampling policy (policy format versions 1 and 2), as far as span decisions and the
 * end-of-span overrides need it. Loading checks the whole document as {@code policy-schema} does:
 * unknown fields, types, versions, rates, templates, duplicate ids.
 */
public final class Policy {
    /** Policy format versions this loader reads. */
    public static final int MIN_VERSION = 1;

    public static final int MAX_VERSION = 2;

    /** Keep, or sample at a rate. */
    public record Action(boolean keep, double rate) {
        /** The consistent-sampling threshold of this action. */
        public long threshold() {
            return keep ? 0L : Consistent.threshold(rate);
        }
    }

    /** A condition on one start attribute: present, and its canonical text matches. */
    record AttributeCondition(String key, Matcher matcher) {}

    /** One rule. */
    record Rule(
            String id,
            String service,
            List<Matcher> matchers,
            SpanKind kind,
            List<AttributeCondition> attributes,
            Action action) {
        boolean hasConditions() {
            return kind != null || !attributes.isEmpty();
        }
    }

    /**
     * The latency override ({@code overrides.latency}): keep spans whose duration is an outlier for
     * their kind of span (see {@link LatencyTracker}).
     */
    record Latency(long window, double threshold, long minSamples, double minSpreadMs) {
        /** The runtime's defaults, in force when a policy has no {@code overrides}. */
        static final Latency DEFAULT = new Latency(256, 6.0, 32, 0.5);
    }

    final int version;
    final Action defaultAction;
    final boolean keepErrors;

    /** Null when the policy has no latency override. */
    final Latency latency;

    final List<Rule> rules;

    private Policy(
            int version,
            Action defaultAction,
            boolean keepErrors,
            Latency latency,
            List<Rule> rules) {
        this.version = version;
        this.defaultAction = defaultAction;
        this.keepErrors = keepErrors;
        this.latency = latency;
        this.rules = List.copyOf(rules);
    }

    /** Whether the policy keeps spans that end with error status. */
    public boolean keepsErrors() {
        return keepErrors;
    }

    /** Whether the policy keeps latency outliers ({@code overrides.latency}). */
    public boolean hasLatencyOverride() {
        return latency != null;
    }

    /** Whether a span dropped at its start may still be kept when it ends. */
    public boolean keepsSpansAtTheirEnd() {
        return keepErrors || latency != null;
    }

    private static final ObjectMapper MAPPER =
            JsonMapper.builder()
                    .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
                    .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .build();

    /** Loads a policy file; a {@link PolicyException} names the file and what is wrong. */
    public static Policy load(Path path) {
        String origin = path.toString();
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw new PolicyException(origin + ": cannot read the policy: no such file", e);
        } catch (AccessDeniedException e) {
            throw new PolicyException(origin + ": cannot read the policy: permission denied", e);
        } catch (IOException e) {
            String why = Files.isDirectory(path) ? "it is a folder, not a file" : e.getMessage();
            throw new PolicyException(origin + ": cannot read the policy: " + why, e);
        }
        return parse(bytes, origin);
    }

    /** Parses a policy document; {@code origin} names it in errors. */
    public static Policy parse(byte[] bytes, String origin) {
        String text;
        try {
            text =
                    StandardCharsets.UTF_8
                            .newDecoder()
                            .onMalformedInput(CodingErrorAction.REPORT)
                            .onUnmappableCharacter(CodingErrorAction.REPORT)
                            .decode(java.nio.ByteBuffer.wrap(bytes))
                            .toString();
        } catch (CharacterCodingException e) {
            throw new PolicyException(origin + ": invalid UTF-8", e);
        }
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        if (text.isBlank()) {
            throw new PolicyException(origin + ": empty: expected a policy (a JSON object)");
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            String where =
                    e.getLocation() == null
                            ? ""
                            : "line "
                                    + e.getLocation().getLineNr()
                                    + ", column "
                                    + e.getLocation().getColumnNr()
                                    + ": ";
            String message = e.getOriginalMessage();
            if (e instanceof JsonParseException) {
                message = "invalid JSON: " + message;
            }
            throw new PolicyException(origin + ": " + where + message, e);
        }
        return new Reader(origin).policy(root);
    }

    /** Reads the tree, naming the field of each problem (e.g. {@code rules[2].action.rate}). */
    private static final class Reader {
        private final String origin;

        Reader(String origin) {
            this.origin = origin;
        }

        private PolicyException problem(String field, String message) {
            return new PolicyException(
                    origin + ": " + (field.isEmpty() ? "." : field) + ": " + message);
        }

        private static String at(String path, String key) {
            return path.isEmpty() ? key : path + "." + key;
        }

        private void object(JsonNode node, String path, Set<String> allowed, Set<String> required) {
            if (!node.isObject()) {
                throw problem(path, "expected an object, found " + describe(node));
            }
            Iterator<String> names = node.fieldNames();
            while (names.hasNext()) {
                String name = names.next();
                if (!allowed.contains(name)) {
                    throw problem(
                            at(path, name),
                            "unknown field (expected one of " + String.join(", ", allowed) + ")");
                }
            }
            for (String name : required) {
                if (!node.has(name)) {
                    throw problem(at(path, name), "missing field");
                }
            }
        }

        private static String describe(JsonNode node) {
            switch (node.getNodeType()) {
                case STRING:
                    return "a string";
                case NUMBER:
                    return "a number";
                case BOOLEAN:
                    return "a boolean";
                case ARRAY:
                    return "an array";
                case OBJECT:
                    return "an object";
                default:
                    return "null";
            }
        }

        private String string(JsonNode node, String path) {
            if (!node.isTextual()) {
                throw problem(path, "expected a string, found " + describe(node));
            }
            return node.textValue();
        }

        private double number(JsonNode node, String path) {
            if (!node.isNumber()) {
                throw problem(path, "expected a number, found " + describe(node));
            }
            return node.doubleValue();
        }

        private long unsigned32(JsonNode node, String path) {
            if (!node.isIntegralNumber()
                    || !node.canConvertToLong()
                    || node.longValue() < 0
                    || node.longValue() > 0xffffffffL) {
                throw problem(path, "expected a whole number in [0, 4294967295], found " + node);
            }
            return node.longValue();
        }

        private boolean bool(JsonNode node, String path) {
            if (!node.isBoolean()) {
                throw problem(path, "expected true or false, found " + describe(node));
            }
            return node.booleanValue();
        }

        private JsonNode array(JsonNode node, String path) {
            if (!node.isArray()) {
                throw problem(path, "expected an array, found " + describe(node));
            }
            return node;
        }

        Policy policy(JsonNode root) {
            object(
                    root,
                    "",
                    Set.of(
                            "$schema",
                            "version",
                            "generator",
                            "target_reduction",
                            "default_action",
                            "overrides",
                            "structure",
                            "budget",
                            "rules"),
                    Set.of("version", "generator", "target_reduction", "default_action", "rules"));
            if (root.has("$schema")) {
                string(root.get("$schema"), "$schema");
            }
            long version = unsigned32(root.get("version"), "version");
            if (version < MIN_VERSION || version > MAX_VERSION) {
                throw problem(
                        "version",
                        "unknown version "
                                + version
                                + " (this build reads versions "
                                + MIN_VERSION
                                + " to "
                                + MAX_VERSION
                                + ")");
            }
            generator(root.get("generator"));
            double targetReduction = number(root.get("target_reduction"), "target_reduction");
            if (!(targetReduction >= 0.0 && targetReduction <= 1.0)) {
                throw problem("target_reduction", targetReduction + " is outside [0, 1]");
            }
            Action defaultAction = action(root.get("default_action"), "default_action");
            boolean keepErrors = true;
            Latency latency = Latency.DEFAULT;
            if (root.has("overrides")) {
                JsonNode overrides = root.get("overrides");
                object(overrides, "overrides", Set.of("keep_errors", "latency"), Set.of());
                if (overrides.has("keep_errors")) {
                    keepErrors = bool(overrides.get("keep_errors"), "overrides.keep_errors");
                }
                // An overrides object without latency turns the override off, as in the runtime.
                latency = null;
                if (overrides.has("latency") && !overrides.get("latency").isNull()) {
                    latency = latency(overrides.get("latency"));
                }
            }
            if (root.has("structure")) {
                JsonNode structure = root.get("structure");
                object(structure, "structure", Set.of("mode"), Set.of("mode"));
                String mode = string(structure.get("mode"), "structure.mode");
                if (!mode.equals("keep-ancestors") && !mode.equals("reparent")) {
                    throw problem(
                            "structure.mode",
                            "unknown mode \"" + mode + "\" (expected keep-ancestors or reparent)");
                }
            }
            if (root.has("budget") && !root.get("budget").isNull()) {
                JsonNode budget = root.get("budget");
                object(budget, "budget", Set.of("spans_per_second"), Set.of("spans_per_second"));
                double perSecond =
                        number(budget.get("spans_per_second"), "budget.spans_per_second");
                if (!(Double.isFinite(perSecond) && perSecond > 0)) {
                    throw problem(
                            "budget.spans_per_second", perSecond + " must be a positive number");
                }
            }
            List<Rule> rules = new ArrayList<>();
            Map<String, Integer> firstIndexOfId = new HashMap<>();
            JsonNode ruleNodes = array(root.get("rules"), "rules");
            for (int i = 0; i < ruleNodes.size(); i++) {
                Rule rule = rule(ruleNodes.get(i), "rules[" + i + "]", (int) version);
                Integer first = firstIndexOfId.putIfAbsent(rule.id(), i);
                if (first != null) {
                    throw problem(
                            "rules[" + i + "].id",
                            "duplicate rule id \""
                                    + rule.id()
                                    + "\" (first used by rules["
                                    + first
                                    + "])");
                }
                rules.add(rule);
            }
            return new Policy((int) version, defaultAction, keepErrors, latency, rules);
        }

        private void generator(JsonNode node) {
            object(
                    node,
                    "generator",
                    Set.of("tool", "version", "source_root", "arguments"),
                    Set.of("tool", "version"));
            string(node.get("tool"), "generator.tool");
            string(node.get("version"), "generator.version");
            if (node.has("source_root") && !node.get("source_root").isNull()) {
                string(node.get("source_root"), "generator.source_root");
            }
            if (node.has("arguments")) {
                JsonNode arguments = array(node.get("arguments"), "generator.arguments");
                for (int i = 0; i < arguments.size(); i++) {
                    string(arguments.get(i), "generator.arguments[" + i + "]");
                }
            }
        }

        private Latency latency(JsonNode node) {
            String path = "overrides.latency";
            object(
                    node,
                    path,
                    Set.of("window", "threshold", "min_samples", "min_spread_ms"),
                    Set.of("window", "threshold", "min_samples"));
            long window = unsigned32(node.get("window"), path + ".window");
            if (window == 0) {
                throw problem(path + ".window", "window must be at least 1");
            }
            double threshold = number(node.get("threshold"), path + ".threshold");
            if (!(Double.isFinite(threshold) && threshold > 0)) {
                throw problem(path + ".threshold", threshold + " must be a positive number");
            }
            long minSamples = unsigned32(node.get("min_samples"), path + ".min_samples");
            double spread = Latency.DEFAULT.minSpreadMs();
            if (node.has("min_spread_ms")) {
                spread = number(node.get("min_spread_ms"), path + ".min_spread_ms");
                if (!(Double.isFinite(spread) && spread >= 0)) {
                    throw problem(
                            path + ".min_spread_ms", spread + " must be a finite number >= 0");
                }
            }
            return new Latency(window, threshold, minSamples, spread);
        }

        private Action action(JsonNode node, String path) {
            if (!node.isObject() || !node.has("action")) {
                throw problem(
                        at(path, "action"),
                        node.isObject()
                                ? "missing field"
                                : "expected an object, found " + describe(node));
            }
            String tag = string(node.get("action"), at(path, "action"));
            switch (tag) {
                case "keep":
                    object(node, path, Set.of("action"), Set.of());
                    return new Action(true, 1.0);
                case "sample":
                    object(node, path, Set.of("action", "rate"), Set.of("rate"));
                    double rate = number(node.get("rate"), at(path, "rate"));
                    if (!(rate >= 0.0 && rate <= 1.0)) {
                        throw problem(at(path, "rate"), "rate " + rate + " is outside [0, 1]");
                    }
                    return new Action(false, rate);
                default:
                    throw problem(
                            at(path, "action"),
                            "unknown action \"" + tag + "\" (expected keep or sample)");
            }
        }

        private Rule rule(JsonNode node, String path, int version) {
            object(
                    node,
                    path,
                    Set.of(
                            "id",
                            "service",
                            "profile",
                            "match",
                            "kind",
                            "attributes",
                            "action",
                            "evidence"),
                    Set.of("id", "match", "action"));
            String id = string(node.get("id"), path + ".id");
            String service = null;
            if (node.has("service") && !node.get("service").isNull()) {
                service = string(node.get("service"), path + ".service");
            }
            if (node.has("profile") && !node.get("profile").isNull()) {
                string(node.get("profile"), path + ".profile");
            }
            JsonNode matchNodes = array(node.get("match"), path + ".match");
            if (matchNodes.isEmpty()) {
                throw problem(path + ".match", "a rule needs at least one matcher");
            }
            List<Matcher> matchers = new ArrayList<>();
            for (int j = 0; j < matchNodes.size(); j++) {
                String matcherPath = path + ".match[" + j + "]";
                JsonNode matcherNode = matchNodes.get(j);
                if (!matcherNode.isObject() || matcherNode.size() != 1) {
                    throw problem(
                            matcherPath,
                            "expected an object with exactly one of exact, template, prefix, glob");
                }
                String kindName = matcherNode.fieldNames().next();
                Matcher.Kind kind = matcherKind(kindName, matcherPath);
                String text = string(matcherNode.get(kindName), matcherPath + "." + kindName);
                if (text.isEmpty() && kind != Matcher.Kind.TEMPLATE) {
                    throw problem(matcherPath + "." + kindName, "empty " + kindName + " matcher");
                }
                matchers.add(matcher(kind, text, matcherPath + "." + kindName));
            }
            SpanKind kind = null;
            if (node.has("kind") && !node.get("kind").isNull()) {
                if (version < 2) {
                    throw problem(path + ".kind", needsVersion2("kind", version));
                }
                kind = spanKind(string(node.get("kind"), path + ".kind"), path + ".kind");
            }
            List<AttributeCondition> conditions = new ArrayList<>();
            if (node.has("attributes")) {
                JsonNode conditionNodes = array(node.get("attributes"), path + ".attributes");
                if (version < 2 && !conditionNodes.isEmpty()) {
                    throw problem(path + ".attributes", needsVersion2("attribute", version));
                }
                for (int j = 0; j < conditionNodes.size(); j++) {
                    conditions.add(
                            condition(conditionNodes.get(j), path + ".attributes[" + j + "]"));
                }
            }
            Action action = action(node.get("action"), path + ".action");
            if (node.has("evidence") && !node.get("evidence").isNull()) {
                evidence(node.get("evidence"), path + ".evidence");
            }
            return new Rule(
                    id, service, List.copyOf(matchers), kind, List.copyOf(conditions), action);
        }

        private static String needsVersion2(String what, int version) {
            return what
                    + " conditions need policy version 2 (this policy says version "
                    + version
                    + "); set \"version\": 2";
        }

        private Matcher.Kind matcherKind(String name, String path) {
            for (Matcher.Kind kind : Matcher.Kind.values()) {
                if (kind.jsonName.equals(name)) {
                    return kind;
                }
            }
            throw problem(
                    path + "." + name,
                    "unknown matcher (expected exact, template, prefix or glob)");
        }

        private Matcher matcher(Matcher.Kind kind, String text, String path) {
            try {
                return Matcher.of(kind, text);
            } catch (IllegalArgumentException e) {
                throw problem(path, "invalid template \"" + text + "\": " + e.getMessage());
            }
        }

        private SpanKind spanKind(String name, String path) {
            switch (name) {
                case "server":
                    return SpanKind.SERVER;
                case "client":
                    return SpanKind.CLIENT;
                case "producer":
                    return SpanKind.PRODUCER;
                case "consumer":
                    return SpanKind.CONSUMER;
                case "internal":
                    return SpanKind.INTERNAL;
                default:
                    throw problem(
                            path,
                            "unknown kind \""
                                    + name
                                    + "\" (expected server, client, producer, consumer or internal)");
            }
        }

        private AttributeCondition condition(JsonNode node, String path) {
            object(node, path, Set.of("key", "exact", "template", "prefix", "glob"), Set.of("key"));
            String key = string(node.get("key"), path + ".key");
            Matcher matcher = null;
            for (Matcher.Kind kind : Matcher.Kind.values()) {
                if (node.has(kind.jsonName)) {
                    if (matcher != null) {
                        matcher = null;
                        break;
                    }
                    String text = string(node.get(kind.jsonName), path + "." + kind.jsonName);
                    matcher = matcher(kind, text, path + "." + kind.jsonName);
                }
            }
            if (matcher == null) {
                throw problem(
                        path,
                        "attribute condition on \""
                                + key
                                + "\" needs exactly one of exact, template, prefix, glob");
            }
            if (key.isEmpty()) {
                throw problem(path + ".key", "empty attribute key");
            }
            return new AttributeCondition(key, matcher);
        }

        private void evidence(JsonNode node, String path) {
            object(
                    node,
                    path,
                    Set.of("score", "function", "file", "line", "reasons"),
                    Set.of("score"));
            number(node.get("score"), path + ".score");
            for (String key : List.of("function", "file")) {
                if (node.has(key) && !node.get(key).isNull()) {
                    string(node.get(key), path + "." + key);
                }
            }
            if (node.has("line") && !node.get("line").isNull()) {
                unsigned32(node.get("line"), path + ".line");
            }
            if (node.has("reasons")) {
                JsonNode reasons = array(node.get("reasons"), path + ".reasons");
                for (int i = 0; i < reasons.size(); i++) {
                    String reasonPath = path + ".reasons[" + i + "]";
                    JsonNode reason = reasons.get(i);
                    object(
                            reason,
                            reasonPath,
                            Set.of("kind", "points", "detail", "file", "line"),
                            Set.of("kind", "points", "detail"));
                    string(reason.get("kind"), reasonPath + ".kind");
                    number(reason.get("points"), reasonPath + ".points");
                    string(reason.get("detail"), reasonPath + ".detail");
                    if (reason.has("file") && !reason.get("file").isNull()) {
                        string(reason.get("file"), reasonPath + ".file");
                    }
                    if (reason.has("line") && !reason.get("line").isNull()) {
                        unsigned32(reason.get("line"), reasonPath + ".line");
                    }
                }
            }
        }
    }
}
