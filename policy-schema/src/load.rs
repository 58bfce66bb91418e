//! Loading and validating a policy from JSON, with errors that name the field and line.

use crate::{Action, FORMAT_VERSION, Matcher, Policy, Template};
use std::collections::HashSet;
use std::path::Path;
use thiserror::Error;

/// Why a policy could not be loaded.
#[derive(Debug, Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Malformed JSON or a field of the wrong shape (serde's message names the field).
    #[error("{origin}: line {line}, column {column}: {message}")]
    Syntax {
        /// File name or `<string>`.
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// Well-formed JSON whose content is invalid.
    #[error("{origin}: line {line}: {field}: {message}")]
    Invalid {
        /// File name or `<string>`.
        origin: String,
        /// 1-based line where the offending value starts (best effort).
        line: usize,
        /// JSON path of the field, e.g. `rules[3].action.rate`.
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// Reads and validates a policy file.
pub fn from_path(path: &Path) -> Result<Policy, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.display().to_string(),
        source,
    })?;
    load(&text, &path.display().to_string())
}

/// Parses and validates a policy from JSON text.
pub fn from_json_str(text: &str) -> Result<Policy, LoadError> {
    load(text, "<string>")
}

/// The JSON Schema of [`Policy`], pretty-printed with a trailing newline.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(Policy);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

fn load(text: &str, origin: &str) -> Result<Policy, LoadError> {
    let policy: Policy = serde_json::from_str(text).map_err(|e| LoadError::Syntax {
        origin: origin.to_string(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    validate(&policy, text, origin)?;
    Ok(policy)
}

fn validate(policy: &Policy, text: &str, origin: &str) -> Result<(), LoadError> {
    let invalid = |field: String, needle: &str, message: String| LoadError::Invalid {
        origin: origin.to_string(),
        line: line_of(text, needle),
        field,
        message,
    };
    if policy.version != FORMAT_VERSION {
        return Err(invalid(
            "version".into(),
            "\"version\"",
            format!("unknown version {} (this build reads {FORMAT_VERSION})", policy.version),
        ));
    }
    if !(0.0..=1.0).contains(&policy.target_reduction) {
        return Err(invalid(
            "target_reduction".into(),
            "\"target_reduction\"",
            format!("{} is outside [0, 1]", policy.target_reduction),
        ));
    }
    check_action(&policy.default_action).map_err(|m| {
        invalid("default_action.rate".into(), "\"default_action\"", m)
    })?;
    if let Some(budget) = &policy.budget {
        if !(budget.spans_per_second.is_finite() && budget.spans_per_second > 0.0) {
            return Err(invalid(
                "budget.spans_per_second".into(),
                "\"spans_per_second\"",
                format!("{} must be a positive number", budget.spans_per_second),
            ));
        }
    }
    if let Some(latency) = &policy.overrides.latency {
        if latency.window == 0 || !(latency.threshold.is_finite() && latency.threshold > 0.0) {
            return Err(invalid(
                "overrides.latency".into(),
                "\"latency\"",
                "window must be at least 1 and threshold a positive number".into(),
            ));
        }
    }
    let mut seen = HashSet::new();
    for (i, rule) in policy.rules.iter().enumerate() {
        let needle = format!("\"{}\"", escape(&rule.id));
        if !seen.insert(rule.id.as_str()) {
            return Err(invalid(
                format!("rules[{i}].id"),
                &needle,
                format!("duplicate rule id {:?}", rule.id),
            ));
        }
        if rule.matchers.is_empty() {
            return Err(invalid(
                format!("rules[{i}].match"),
                &needle,
                "a rule needs at least one matcher".into(),
            ));
        }
        check_action(&rule.action)
            .map_err(|m| invalid(format!("rules[{i}].action.rate"), &needle, m))?;
        for (j, matcher) in rule.matchers.iter().enumerate() {
            if let Matcher::Template(t) = matcher {
                Template::parse(t).map_err(|e| {
                    invalid(
                        format!("rules[{i}].match[{j}].template"),
                        &format!("\"{}\"", escape(t)),
                        format!("invalid template {t:?}: {e}"),
                    )
                })?;
            }
        }
    }
    Ok(())
}

fn check_action(action: &Action) -> Result<(), String> {
    match action {
        Action::Keep => Ok(()),
        Action::Sample { rate } if (0.0..=1.0).contains(rate) => Ok(()),
        Action::Sample { rate } => Err(format!("rate {rate} is outside [0, 1]")),
    }
}

fn escape(s: &str) -> String {
    serde_json::to_string(s)
        .map(|q| q[1..q.len() - 1].to_string())
        .unwrap_or_default()
}

/// 1-based line of the first occurrence of `needle`, or 1.
fn line_of(text: &str, needle: &str) -> usize {
    text.find(needle)
        .map(|at| text[..at].matches('\n').count() + 1)
        .unwrap_or(1)
}
