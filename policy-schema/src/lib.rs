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

/// The only policy format version this crate reads and writes.
pub const FORMAT_VERSION: u32 = 1;

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
    /// Format version; only [`FORMAT_VERSION`] is accepted.
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
    /// Precedence when several rules match a span: first the kind of the matcher that
    /// matched (exact beats template beats prefix beats glob), then a rule naming the
    /// span's service beats a service-less one, then the earlier rule wins. So a
    /// service-less exact rule beats a service-specific template rule, and among prefix
    /// rules the earlier one wins, not the longest.
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
    /// The span names this rule covers: any matcher matching means the rule matches.
    #[serde(rename = "match")]
    pub matchers: Vec<Matcher>,
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
/// with `inject_delays --measure` on TrainTicket data at delay factor 5, delayed spans
/// kept rose from 1/41 to 40/41 (put_consign) and 11/41 to 36/41 (F02) while healthy
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
