//! The Autoscope sampling policy: the contract between the analyzer (which writes it)
//! and the runtime sampler (which applies it).
//!
//! A policy is plain data: a list of [`Rule`]s, each naming spans through one or more
//! [`Matcher`]s and deciding them with an [`Action`], plus a default action, the runtime
//! [`Overrides`] that beat rules (errors, latency outliers) and the [`StructureMode`] of
//! the ancestor pass. The JSON Schema in `policy.schema.json` is generated from these
//! types and a test keeps the file identical to what they generate.

pub mod load;
pub mod template;

pub use load::{LoadError, from_json_slice, from_json_str, from_path, schema_json};
pub use template::{Template, TemplateError};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The policy format version this crate writes. It reads every version in
/// [`READABLE_VERSIONS`].
///
/// - 1: rules match a span by service and name.
/// - 2: rules may also hold conditions on the span's kind and start attributes
///   ([`Rule::kind`], [`Rule::attributes`]); a version 1 policy is a version 2 policy
///   without conditions.
pub const FORMAT_VERSION: u32 = 2;

/// The policy format versions this crate reads.
pub const READABLE_VERSIONS: std::ops::RangeInclusive<u32> = 1..=2;

/// The `$id` of the published JSON Schema (`policy.schema.json`), under the
/// repository's address; a policy may name it in `"$schema"`.
pub const SCHEMA_ID: &str = concat!(
    env!("CARGO_PKG_REPOSITORY"),
    "/policy-schema/policy.schema.json"
);

/// A whole sampling policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("$id" = SCHEMA_ID))]
pub struct Policy {
    /// The JSON Schema the document follows, as editors add it (e.g. [`SCHEMA_ID`]);
    /// not checked, and not needed.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Format version: 1 or 2 ([`READABLE_VERSIONS`]); rule conditions need 2.
    pub version: u32,
    /// What produced this policy.
    pub generator: Generator,
    /// Share of span volume the policy aims to remove, in [0, 1].
    pub target_reduction: f64,
    /// Action for spans that no rule matches.
    pub default_action: Action,
    /// Run-time signals that beat rules.
    #[serde(default)]
    pub overrides: Overrides,
    /// How kept spans keep their path to the root.
    #[serde(default)]
    pub structure: Structure,
    /// Optional throughput cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
    /// Rules, in a stable order (the analyzer sorts them).
    ///
    /// A rule matches a span when one of its name matchers matches the span name, its
    /// service (if any) is the span's, and all of its conditions ([`Rule::kind`],
    /// [`Rule::attributes`]) hold. Precedence when several rules match a span: first the
    /// kind of the name matcher that matched (exact beats template beats prefix beats
    /// glob), then a rule naming the span's service beats a service-less one, then a rule
    /// with conditions beats one without, then the earlier rule wins. So a service-less
    /// exact rule beats a service-specific template rule, a conditional rule refines an
    /// unconditional one of the same matcher kind and scope wherever it is in the list,
    /// and among prefix rules the earlier one wins, not the longest.
    pub rules: Vec<Rule>,
}

/// Provenance of a policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Generator {
    /// Tool name, e.g. `autoscope` or `hand-written`.
    pub tool: String,
    /// Tool version.
    pub version: String,
    /// Source root the policy was derived from: `autoscope analyze` writes it relative
    /// to the policy file's folder (relative to the current folder for a policy
    /// written to standard output), with `/` separators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_root: Option<String>,
    /// The analysis options the policy was generated with, as `autoscope analyze`
    /// arguments (only those that differ from the defaults; paths relative like
    /// `source_root`), so that `autoscope check` regenerates it exactly.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<String>,
}

/// One rule: which spans, what to do with them, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Unique id within the policy.
    pub id: String,
    /// Service the rule applies to; `None` applies to every service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The instrumentation profile(s) whose span names the matchers are (`otel-java@2`,
    /// `skywalking`), comma-separated when several name the spans alike; informative
    /// (matching does not depend on it). `None` for hand-written rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The span names this rule covers: any matcher matching means the rule matches.
    #[serde(rename = "match")]
    pub matchers: Vec<Matcher>,
    /// Only spans of this kind (policy version 2); `None`: any kind, unspecified too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<SpanKind>,
    /// Conditions on the span's start attributes, all of which must hold (policy version
    /// 2). Empty: no condition.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<AttributeCondition>,
    /// What to do with matching spans.
    pub action: Action,
    /// Why, so a person can audit the rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
}

/// How a rule names spans.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Matcher {
    /// The span name exactly.
    Exact(String),
    /// A template: literal text with `{name}` placeholders, each matching one or more
    /// characters other than `/`; `{name:**}` matches the rest (may contain `/`).
    /// `{{` and `}}` are literal braces. Example: `/api/v1/orderservice/order/{orderId}`.
    Template(String),
    /// Span names starting with this text.
    Prefix(String),
    /// A glob: `*` matches any run of characters, `?` one character.
    Glob(String),
}

impl Rule {
    /// Whether the rule has a kind or attribute condition.
    pub fn has_conditions(&self) -> bool {
        self.kind.is_some() || !self.attributes.is_empty()
    }

    /// The conditions for people, e.g. `kind client; server.address exact "payments"`
    /// (empty without conditions).
    pub fn conditions_text(&self) -> String {
        let kind = self.kind.map(|kind| format!("kind {}", kind.as_str()));
        let attributes = self.attributes.iter().map(|c| {
            let (how, value) = match &c.matcher {
                Matcher::Exact(v) => ("exact", v),
                Matcher::Template(v) => ("template", v),
                Matcher::Prefix(v) => ("prefix", v),
                Matcher::Glob(v) => ("glob", v),
            };
            format!("{} {how} {value:?}", c.key)
        });
        kind.into_iter()
            .chain(attributes)
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// A condition on one start attribute: the attribute `key` is present and its value, in
/// canonical text, matches `matcher`.
///
/// Canonical text of a value: a string as it is; an integer in decimal (`-12`); a bool
/// `true` or `false`; a double as the shortest decimal that reads back as the same
/// double, laid out as ECMAScript's `Number.prototype.toString` does (`0.5`, `100`,
/// `1e+21`, `1.5e-7`, `NaN`, `Infinity`, `-Infinity`; `-0` is `0`). An absent attribute,
/// or one holding bytes, an array or a map, fails the condition. Matchers work as on
/// names (a template's placeholders stop at `/`); an empty `exact` matches the empty
/// string and an empty `prefix` any present value.
///
/// In JSON: `{"key": "server.address", "exact": "payments"}` — the key and exactly one
/// of `exact`, `template`, `prefix`, `glob`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawAttributeCondition", into = "RawAttributeCondition")]
pub struct AttributeCondition {
    /// The attribute key, e.g. `http.route`.
    pub key: String,
    /// What its value must match.
    pub matcher: Matcher,
}

/// The JSON shape of an [`AttributeCondition`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAttributeCondition {
    key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    glob: Option<String>,
}

impl TryFrom<RawAttributeCondition> for AttributeCondition {
    type Error = String;

    fn try_from(raw: RawAttributeCondition) -> Result<Self, String> {
        let mut given = [
            raw.exact.map(Matcher::Exact),
            raw.template.map(Matcher::Template),
            raw.prefix.map(Matcher::Prefix),
            raw.glob.map(Matcher::Glob),
        ]
        .into_iter()
        .flatten();
        match (given.next(), given.next()) {
            (Some(matcher), None) => Ok(Self {
                key: raw.key,
                matcher,
            }),
            _ => Err(format!(
                "attribute condition on {:?} needs exactly one of exact, template, prefix, glob",
                raw.key
            )),
        }
    }
}

impl From<AttributeCondition> for RawAttributeCondition {
    fn from(condition: AttributeCondition) -> Self {
        let mut raw = Self {
            key: condition.key,
            exact: None,
            template: None,
            prefix: None,
            glob: None,
        };
        match condition.matcher {
            Matcher::Exact(v) => raw.exact = Some(v),
            Matcher::Template(v) => raw.template = Some(v),
            Matcher::Prefix(v) => raw.prefix = Some(v),
            Matcher::Glob(v) => raw.glob = Some(v),
        }
        raw
    }
}

impl JsonSchema for AttributeCondition {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AttributeCondition".into()
    }

    fn json_schema(_generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let value = |what: &str| {
            serde_json::json!({
                "type": "string",
                "description": format!("The value's canonical text {what}.")
            })
        };
        let one_of: Vec<serde_json::Value> = ["exact", "template", "prefix", "glob"]
            .iter()
            .map(|kind| serde_json::json!({ "required": [kind] }))
            .collect();
        schemars::json_schema!({
            "description": "A condition on one start attribute: the key and exactly one of exact, template, prefix, glob, matched against the value's canonical text (strings as they are, ints in decimal, bools true/false, doubles as ECMAScript's Number.prototype.toString writes them). An absent attribute fails the condition.",
            "type": "object",
            "properties": {
                "key": { "type": "string", "description": "The attribute key, e.g. `http.route`." },
                "exact": value("exactly"),
                "template": value("matching this template"),
                "prefix": value("starting with this text"),
                "glob": value("matching this glob")
            },
            "required": ["key"],
            "additionalProperties": false,
            "oneOf": one_of
        })
    }
}

/// An OpenTelemetry span kind, as rule conditions name it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SpanKind {
    /// `SERVER`: the handling of a synchronous remote request.
    Server,
    /// `CLIENT`: a synchronous remote call.
    Client,
    /// `PRODUCER`: the sending of an asynchronous message.
    Producer,
    /// `CONSUMER`: the processing of an asynchronous message.
    Consumer,
    /// `INTERNAL`: an operation inside a process.
    Internal,
}

impl SpanKind {
    /// The name used in policies (`server`, `client`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Server => "server",
            Self::Client => "client",
            Self::Producer => "producer",
            Self::Consumer => "consumer",
            Self::Internal => "internal",
        }
    }
}

/// Keep, or sample at a rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Always keep.
    Keep,
    /// Keep with probability `rate` in [0, 1], consistently per trace.
    Sample {
        /// Probability of keeping, in [0, 1].
        rate: f64,
    },
}

/// The evidence behind a rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// Total score.
    pub score: f64,
    /// Function (qualified name) that produces the span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// Source file of the span site, relative to the source root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line of the span site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Each contribution to the score.
    #[serde(default)]
    pub reasons: Vec<Reason>,
}

/// One contribution to a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// Kind: `error-handling`, `external-call`, `database`, `messaging`,
    /// `business-critical`, `hot`, `trace-frequency`, ...
    pub kind: String,
    /// Points added (negative for hot code).
    pub points: f64,
    /// Human-readable detail.
    pub detail: String,
    /// Where in the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

/// Run-time signals that beat rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    /// Keep every span whose status is error.
    #[serde(default = "default_true")]
    pub keep_errors: bool,
    /// Keep latency outliers per span name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencyOverride>,
}

impl Default for Overrides {
    fn default() -> Self {
        Self {
            keep_errors: true,
            latency: Some(LatencyOverride::default()),
        }
    }
}

fn default_true() -> bool {
    true
}

/// Keep spans whose duration is an outlier for their (service, name): duration greater
/// than `median + threshold * spread` over a sliding window of recent durations, where
/// `spread = max(1.4826 * MAD, median / 20, min_spread_ms)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LatencyOverride {
    /// Number of recent durations kept per span name.
    pub window: u32,
    /// How many MADs above the median counts as an outlier.
    pub threshold: f64,
    /// Durations seen before the override may fire.
    pub min_samples: u32,
    /// Floor on the spread, in milliseconds: keeps a constant stream (MAD 0) from
    /// flagging every small wobble. Lower floors catch delays of fast calls.
    #[serde(default = "default_min_spread_ms")]
    pub min_spread_ms: f64,
}

/// The default floor on the latency spread, in milliseconds (see [`LatencyOverride`]).
///
/// 0.5 ms rather than 1 ms: a 0-1 ms database call (MAD 0) delayed fivefold lasts
/// ~5 ms, under the limit `median + 6 x 1 ms` but over `median + 6 x 0.5 ms`. Measured
/// with the delay injector (now `autoscope inject delay`, read by `eval --faults`) on
/// TrainTicket data at delay factor 5, delayed spans kept rose from 1/41 to 40/41
/// (put_consign) and 11/41 to 36/41 (F02) while healthy
/// spans kept by the override rose from 1.7% to 2.0% and 0.2% to 0.7%; 0.25 ms doubled
/// those false positives again for no gain at factor 5.
pub const DEFAULT_MIN_SPREAD_MS: f64 = 0.5;

fn default_min_spread_ms() -> f64 {
    DEFAULT_MIN_SPREAD_MS
}

impl Default for LatencyOverride {
    fn default() -> Self {
        Self {
            window: 256,
            threshold: 6.0,
            min_samples: 32,
            min_spread_ms: DEFAULT_MIN_SPREAD_MS,
        }
    }
}

/// The structure pass.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Structure {
    /// Mode of the pass.
    pub mode: StructureMode,
}

/// How kept spans keep their path to the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StructureMode {
    /// Every kept span keeps its whole chain of ancestors.
    #[default]
    KeepAncestors,
    /// Dropped middle spans vanish; a kept span points to its nearest kept ancestor.
    Reparent,
}

/// A cap on kept spans per second: `sample` rates scale down under load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// Spans per second the sampled share may add up to.
    pub spans_per_second: f64,
}
