//! Conformance vectors for Autoscope's span decision (format described in
//! `conformance/README.md`): their types, a reader, the runner that asks the Rust runtime
//! what it decides, and the generator that writes them ([`generate`]).
//!
//! Every implementation of the decision (the Rust runtime and SDK, the Java, Python and
//! Go SDKs) reads the same files and must agree on every case.

pub mod generate;

use policy_schema::{Policy, SpanKind};
use runtime_sampler::consistent::{NEVER, encode_th};
use runtime_sampler::{AttributeValue, DecidedBy, Decider, HeadDecision, SpanStart};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The version of the vectors' semantics (the folder `v1/`).
pub const VERSION: u32 = 1;

/// One case: a span start under a policy, and the decision every implementation must
/// reach.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Unique id, `<group>/<number>`.
    pub id: String,
    /// The policy: `policies/<policy>.json` beside the cases.
    pub policy: String,
    /// The span at its start.
    pub span: SpanCase,
    /// The decision.
    pub expect: Expect,
}

/// What a sampler knows when a span starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpanCase {
    /// Resource `service.name`.
    pub service: String,
    /// Span name.
    pub name: String,
    /// Span kind; `null`: unspecified.
    pub kind: Option<SpanKind>,
    /// The trace id bytes.
    pub trace_id: TraceIdCase,
    /// The W3C tracestate of the parent context (`""`: none).
    pub tracestate: String,
    /// Start attributes, in order.
    pub attributes: Vec<AttributeCase>,
}

/// Trace id bytes, given as hex (binary ids) or as text (its UTF-8 bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TraceIdCase {
    /// The bytes are these hex digits decoded (16 bytes for a W3C id, 8 for Jaeger's).
    Hex(String),
    /// The bytes are this text's UTF-8 encoding (ids trace files write as text).
    Text(String),
}

impl TraceIdCase {
    /// The id bytes.
    pub fn bytes(&self) -> Result<Vec<u8>, String> {
        match self {
            Self::Text(text) => Ok(text.as_bytes().to_vec()),
            Self::Hex(hex) => {
                if hex.len() % 2 != 0 {
                    return Err(format!("odd number of hex digits in {hex:?}"));
                }
                (0..hex.len())
                    .step_by(2)
                    .map(|i| {
                        u8::from_str_radix(&hex[i..i + 2], 16)
                            .map_err(|_| format!("not hex: {hex:?}"))
                    })
                    .collect()
            }
        }
    }
}

/// One start attribute with its type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeCase {
    /// Key.
    pub key: String,
    /// `string`, `int`, `bool` or `double`.
    #[serde(rename = "type")]
    pub value_type: String,
    /// The value: a JSON string, integer (64-bit), boolean, or for doubles a number or
    /// one of `"NaN"`, `"Infinity"`, `"-Infinity"`.
    pub value: serde_json::Value,
}

/// A typed attribute value as a case holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum TypedValue {
    /// String.
    Str(String),
    /// Integer.
    Int(i64),
    /// Boolean.
    Bool(bool),
    /// Double.
    Double(f64),
}

impl AttributeCase {
    /// An attribute of a typed value.
    pub fn new(key: &str, value: TypedValue) -> Self {
        let (value_type, value) = match value {
            TypedValue::Str(text) => ("string", serde_json::Value::String(text)),
            TypedValue::Int(number) => ("int", serde_json::Value::from(number)),
            TypedValue::Bool(flag) => ("bool", serde_json::Value::Bool(flag)),
            TypedValue::Double(number) => (
                "double",
                match serde_json::Number::from_f64(number) {
                    Some(n) => serde_json::Value::Number(n),
                    None if number.is_nan() => "NaN".into(),
                    None if number > 0.0 => "Infinity".into(),
                    None => "-Infinity".into(),
                },
            ),
        };
        Self {
            key: key.into(),
            value_type: value_type.into(),
            value,
        }
    }

    /// The typed value.
    pub fn typed(&self) -> Result<TypedValue, String> {
        let bad = || {
            format!(
                "attribute {:?}: bad {} value {}",
                self.key, self.value_type, self.value
            )
        };
        Ok(match (self.value_type.as_str(), &self.value) {
            ("string", serde_json::Value::String(text)) => TypedValue::Str(text.clone()),
            ("int", value) => TypedValue::Int(value.as_i64().ok_or_else(bad)?),
            ("bool", serde_json::Value::Bool(flag)) => TypedValue::Bool(*flag),
            ("double", serde_json::Value::String(text)) => {
                TypedValue::Double(match text.as_str() {
                    "NaN" => f64::NAN,
                    "Infinity" => f64::INFINITY,
                    "-Infinity" => f64::NEG_INFINITY,
                    _ => return Err(bad()),
                })
            }
            ("double", value) => TypedValue::Double(value.as_f64().ok_or_else(bad)?),
            _ => return Err(bad()),
        })
    }
}

/// The decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Keep the span?
    pub sampled: bool,
    /// Id of the deciding rule; `null`: the default action.
    pub rule: Option<String>,
    /// The trace's randomness `R`, 14 lowercase hex digits.
    pub randomness: String,
    /// The threshold `T` applied, lowercase hex without leading zeros padding to 14
    /// digits (`100000000000000` is 2^56: rate 0).
    pub threshold: String,
    /// `T` as OpenTelemetry's `th` (`null` for T = 2^56).
    pub th: Option<String>,
    /// `2^56 / (2^56 - T)` when sampled, 0 when not.
    pub adjusted_count: f64,
}

/// The decision the Rust runtime reaches for `span` under `policy`.
pub fn decide(decider: &Decider, policy: &Policy, span: &SpanCase) -> Result<Expect, String> {
    let trace_id = span.trace_id.bytes()?;
    let typed = typed_attributes(span)?;
    let attributes: Vec<(&str, AttributeValue<'_>)> = typed
        .iter()
        .map(|(key, value)| {
            let value = match value {
                TypedValue::Str(text) => AttributeValue::Str(text),
                TypedValue::Int(n) => AttributeValue::Int(*n),
                TypedValue::Bool(b) => AttributeValue::Bool(*b),
                TypedValue::Double(d) => AttributeValue::Double(*d),
            };
            (key.as_str(), value)
        })
        .collect();
    let decision = decider.decide(&SpanStart {
        trace_id: &trace_id,
        trace_state: &span.tracestate,
        service: &span.service,
        name: &span.name,
        kind: span.kind,
        attributes: &attributes,
    });
    Ok(expect_of(policy, &decision))
}

/// The typed attributes of a case.
pub fn typed_attributes(span: &SpanCase) -> Result<Vec<(String, TypedValue)>, String> {
    span.attributes
        .iter()
        .map(|a| Ok((a.key.clone(), a.typed()?)))
        .collect()
}

/// A head decision as a case's `expect` writes it.
pub fn expect_of(policy: &Policy, decision: &HeadDecision) -> Expect {
    let rule = match decision.decided_by {
        DecidedBy::Rule(index) => Some(policy.rules[index].id.clone()),
        DecidedBy::Default => None,
    };
    Expect {
        sampled: decision.sampled,
        rule,
        randomness: format!("{:014x}", decision.randomness.value),
        threshold: if decision.threshold >= NEVER {
            format!("{NEVER:x}")
        } else {
            format!("{:014x}", decision.threshold)
        },
        th: encode_th(decision.threshold).map(|th| th.as_str().to_string()),
        adjusted_count: decision.adjusted_count,
    }
}

/// The vectors of one version folder, read from disk.
#[derive(Debug, Clone)]
pub struct Vectors {
    /// Policies by name, loaded.
    pub policies: BTreeMap<String, Policy>,
    /// The cases, in file order.
    pub cases: Vec<Case>,
}

/// The folder of the current version: `conformance/v1` in this repository.
pub fn version_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("v{VERSION}"))
}

/// Reads `dir/policies/*.json` and `dir/cases.jsonl`.
pub fn read(dir: &Path) -> Result<Vectors, String> {
    let mut policies = BTreeMap::new();
    let policy_dir = dir.join("policies");
    let entries =
        std::fs::read_dir(&policy_dir).map_err(|e| format!("{}: {e}", policy_dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|e| e == "json") {
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            let policy = policy_schema::from_path(&path).map_err(|e| e.to_string())?;
            policies.insert(name, policy);
        }
    }
    let cases_path = dir.join("cases.jsonl");
    let text = std::fs::read_to_string(&cases_path)
        .map_err(|e| format!("{}: {e}", cases_path.display()))?;
    let cases = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(number, line)| {
            serde_json::from_str(line)
                .map_err(|e| format!("{}:{}: {e}", cases_path.display(), number + 1))
        })
        .collect::<Result<Vec<Case>, String>>()?;
    Ok(Vectors { policies, cases })
}

/// Runs every case through `decide` (an implementation of the decision) and returns the
/// ids and differences of the cases it gets wrong.
pub fn check(
    vectors: &Vectors,
    mut decide: impl FnMut(&str, &Policy, &SpanCase) -> Result<Expect, String>,
) -> Vec<String> {
    let mut wrong = Vec::new();
    for case in &vectors.cases {
        let Some(policy) = vectors.policies.get(&case.policy) else {
            wrong.push(format!("{}: no policy {:?}", case.id, case.policy));
            continue;
        };
        match decide(&case.policy, policy, &case.span) {
            Ok(got) if got == case.expect => {}
            Ok(got) => wrong.push(format!(
                "{}: expected {:?}, got {:?}",
                case.id, case.expect, got
            )),
            Err(e) => wrong.push(format!("{}: {e}", case.id)),
        }
    }
    wrong
}
