//! Loading and validating a policy from JSON, with errors that name the field and line.
//!
//! Loading is linear in the text: serde builds the typed [`Policy`] (on failure the text
//! is parsed again through `serde_path_to_error`, so shape errors name the field path);
//! then semantic checks run on the typed value, and a small position scanner
//! (`line_at`) maps the JSON path of an offending value (`rules[3].action.rate`) to the
//! line where that value starts. The scanner only runs when a check fails.

use crate::{Action, FORMAT_VERSION, Matcher, Policy, READABLE_VERSIONS, Template};
use std::collections::HashMap;
use std::path::Path;
use thiserror::Error;

/// Why a policy could not be loaded.
#[derive(Debug, Error)]
pub enum LoadError {
    /// The file could not be read. The cause is part of the message (not a
    /// `source()`), so that it is said once.
    #[error("{path}: cannot read the policy: {}", describe_io(error))]
    Io {
        /// The file.
        path: String,
        /// The cause.
        error: std::io::Error,
    },
    /// The file holds nothing but whitespace.
    #[error("{origin}: empty: expected a policy (a JSON object)")]
    Empty {
        /// File name or `<string>`.
        origin: String,
    },
    /// Malformed JSON, an unknown field or a field of the wrong shape.
    #[error("{origin}: line {line}, column {column}: {field}: {message}")]
    Syntax {
        /// File name or `<string>`.
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// JSON path of the field serde was reading, e.g. `rules[3].action`
        /// (`.` for the document itself).
        field: String,
        /// What is wrong (serde's message, which names unknown fields).
        message: String,
    },
    /// Well-formed JSON whose content is invalid.
    #[error("{origin}: line {line}: {field}: {message}")]
    Invalid {
        /// File name or `<string>`.
        origin: String,
        /// 1-based line where the offending value starts.
        line: usize,
        /// JSON path of the field, e.g. `rules[3].action.rate`.
        field: String,
        /// What is wrong.
        message: String,
    },
}

impl LoadError {
    /// The 1-based line the error points at, if any.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Io { .. } | Self::Empty { .. } => None,
            Self::Syntax { line, .. } | Self::Invalid { line, .. } => Some(*line),
        }
    }

    /// The JSON path of the offending field, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Io { .. } | Self::Empty { .. } => None,
            Self::Syntax { field, .. } | Self::Invalid { field, .. } => Some(field),
        }
    }
}

/// Reads and validates a policy file.
pub fn from_path(path: &Path) -> Result<Policy, LoadError> {
    let origin = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|error| LoadError::Io {
        path: origin.clone(),
        error,
    })?;
    load_bytes(&bytes, &origin)
}

/// An I/O error as a user reads it: a missing file is "no such file", a folder "is a
/// folder, not a file", and no `(os error N)` suffix.
fn describe_io(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::IsADirectory => "it is a folder, not a file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let text = error.to_string();
            match text.rfind(" (os error ") {
                Some(at) if text.ends_with(')') => text[..at].to_string(),
                _ => text,
            }
        }
    }
}

/// Parses and validates a policy from JSON text.
pub fn from_json_str(text: &str) -> Result<Policy, LoadError> {
    load(text, "<string>")
}

/// Parses and validates a policy from bytes (which must be UTF-8).
pub fn from_json_slice(bytes: &[u8]) -> Result<Policy, LoadError> {
    load_bytes(bytes, "<bytes>")
}

fn load_bytes(bytes: &[u8], origin: &str) -> Result<Policy, LoadError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => load(text, origin),
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            let column = valid.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
            Err(LoadError::Syntax {
                origin: origin.into(),
                line,
                column,
                field: ".".into(),
                message: format!("invalid UTF-8: {e}"),
            })
        }
    }
}

/// The JSON Schema of [`Policy`], pretty-printed with a trailing newline.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(Policy);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

fn load(text: &str, origin: &str) -> Result<Policy, LoadError> {
    if text.trim_start_matches('\u{feff}').trim().is_empty() {
        return Err(LoadError::Empty {
            origin: origin.to_string(),
        });
    }
    let syntax = |error: serde_json::Error, field: String| LoadError::Syntax {
        origin: origin.to_string(),
        line: error.line(),
        column: error.column(),
        field,
        message: strip_position(&error.to_string()),
    };
    // The common case, a valid document, takes plain serde; only a failure is parsed
    // again with path tracking (slower) to name the field.
    let policy: Policy = match serde_json::from_str(text) {
        Ok(policy) => policy,
        Err(plain_error) => {
            let mut deserializer = serde_json::Deserializer::from_str(text);
            let error = match serde_path_to_error::deserialize::<_, Policy>(&mut deserializer) {
                Err(e) => {
                    let field = e.path().to_string();
                    syntax(e.into_inner(), field)
                }
                // Only trailing characters are left to fail on.
                Ok(_) => syntax(plain_error, ".".into()),
            };
            return Err(error);
        }
    };
    if let Some(problem) = first_problem(&policy) {
        let line = line_at(text, &problem.path).unwrap_or(1);
        return Err(LoadError::Invalid {
            origin: origin.to_string(),
            line,
            field: render_path(&problem.path),
            message: problem.message,
        });
    }
    Ok(policy)
}

/// serde_json appends " at line L column C"; we report those as fields of their own.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(&'static str),
    Index(usize),
}

fn render_path(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Step::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

struct Problem {
    path: Vec<Step>,
    message: String,
}

fn problem(path: Vec<Step>, message: String) -> Option<Problem> {
    Some(Problem { path, message })
}

/// The first semantic problem, in document order of the checks.
fn first_problem(policy: &Policy) -> Option<Problem> {
    use Step::{Index, Key};
    if !READABLE_VERSIONS.contains(&policy.version) {
        return problem(
            vec![Key("version")],
            format!(
                "unknown version {} (this build reads versions {} to {})",
                policy.version,
                READABLE_VERSIONS.start(),
                READABLE_VERSIONS.end()
            ),
        );
    }
    if !(0.0..=1.0).contains(&policy.target_reduction) {
        return problem(
            vec![Key("target_reduction")],
            format!("{} is outside [0, 1]", policy.target_reduction),
        );
    }
    if let Some(message) = action_problem(&policy.default_action) {
        return problem(vec![Key("default_action"), Key("rate")], message);
    }
    if let Some(latency) = &policy.overrides.latency {
        let at = |key| vec![Key("overrides"), Key("latency"), Key(key)];
        if latency.window == 0 {
            return problem(at("window"), "window must be at least 1".into());
        }
        if !(latency.threshold.is_finite() && latency.threshold > 0.0) {
            return problem(
                at("threshold"),
                format!("{} must be a positive number", latency.threshold),
            );
        }
        if !(latency.min_spread_ms.is_finite() && latency.min_spread_ms >= 0.0) {
            return problem(
                at("min_spread_ms"),
                format!("{} must be a finite number >= 0", latency.min_spread_ms),
            );
        }
    }
    if let Some(budget) = &policy.budget
        && !(budget.spans_per_second.is_finite() && budget.spans_per_second > 0.0)
    {
        return problem(
            vec![Key("budget"), Key("spans_per_second")],
            format!("{} must be a positive number", budget.spans_per_second),
        );
    }
    let mut first_index_of_id: HashMap<&str, usize> = HashMap::new();
    for (i, rule) in policy.rules.iter().enumerate() {
        if let Some(first) = first_index_of_id.insert(rule.id.as_str(), i) {
            return problem(
                vec![Key("rules"), Index(i), Key("id")],
                format!(
                    "duplicate rule id {:?} (first used by rules[{first}])",
                    rule.id
                ),
            );
        }
        if rule.matchers.is_empty() {
            return problem(
                vec![Key("rules"), Index(i), Key("match")],
                "a rule needs at least one matcher".into(),
            );
        }
        for (j, matcher) in rule.matchers.iter().enumerate() {
            let at = |kind| vec![Key("rules"), Index(i), Key("match"), Index(j), Key(kind)];
            match matcher {
                Matcher::Template(text) => {
                    if let Err(e) = Template::parse(text) {
                        return problem(at("template"), format!("invalid template {text:?}: {e}"));
                    }
                }
                Matcher::Exact(text) | Matcher::Prefix(text) | Matcher::Glob(text)
                    if text.is_empty() =>
                {
                    let kind = match matcher {
                        Matcher::Exact(_) => "exact",
                        Matcher::Prefix(_) => "prefix",
                        _ => "glob",
                    };
                    return problem(at(kind), format!("empty {kind} matcher"));
                }
                _ => {}
            }
        }
        if policy.version < 2 {
            let needs_v2 = |what| {
                format!(
                    "{what} conditions need policy version 2 (this policy says version {}); \
                     set \"version\": {FORMAT_VERSION}",
                    policy.version
                )
            };
            if rule.kind.is_some() {
                return problem(vec![Key("rules"), Index(i), Key("kind")], needs_v2("kind"));
            }
            if !rule.attributes.is_empty() {
                return problem(
                    vec![Key("rules"), Index(i), Key("attributes")],
                    needs_v2("attribute"),
                );
            }
        }
        for (j, condition) in rule.attributes.iter().enumerate() {
            let at = |field| {
                vec![
                    Key("rules"),
                    Index(i),
                    Key("attributes"),
                    Index(j),
                    Key(field),
                ]
            };
            if condition.key.is_empty() {
                return problem(at("key"), "empty attribute key".into());
            }
            if let Matcher::Template(text) = &condition.matcher
                && let Err(e) = Template::parse(text)
            {
                return problem(at("template"), format!("invalid template {text:?}: {e}"));
            }
        }
        if let Some(message) = action_problem(&rule.action) {
            return problem(
                vec![Key("rules"), Index(i), Key("action"), Key("rate")],
                message,
            );
        }
    }
    None
}

fn action_problem(action: &Action) -> Option<String> {
    match action {
        Action::Keep => None,
        Action::Sample { rate } if (0.0..=1.0).contains(rate) => None,
        Action::Sample { rate } => Some(format!("rate {rate} is outside [0, 1]")),
    }
}

/// The 1-based line where the value at `path` starts, scanning only along the path and
/// skipping everything else without allocating (linear in the text, no recursion).
/// Works on text serde_json accepted (so object keys are unique); returns `None` rather
/// than panicking if the text is not JSON after all.
fn line_at(text: &str, path: &[Step]) -> Option<usize> {
    let mut scanner = Scanner {
        bytes: text.as_bytes(),
        at: 0,
        line: 1,
    };
    for step in path {
        match step {
            Step::Key(wanted) => {
                scanner.eat(b'{')?;
                loop {
                    let key = scanner.key()?;
                    scanner.eat(b':')?;
                    if key == *wanted {
                        break;
                    }
                    scanner.skip_value()?;
                    scanner.eat(b',')?;
                }
            }
            Step::Index(index) => {
                scanner.eat(b'[')?;
                for _ in 0..*index {
                    scanner.skip_value()?;
                    scanner.eat(b',')?;
                }
            }
        }
    }
    scanner.skip_whitespace();
    Some(scanner.line)
}

struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
    line: usize,
}

impl<'a> Scanner<'a> {
    fn skip_whitespace(&mut self) {
        while let Some(&b) = self.bytes.get(self.at) {
            match b {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ => break,
            }
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        self.skip_whitespace();
        (self.bytes.get(self.at) == Some(&byte)).then(|| self.at += 1)
    }

    /// Skips a string token; returns its raw text (quotes included) and whether it has
    /// escapes.
    fn string(&mut self) -> Option<(&'a str, bool)> {
        self.skip_whitespace();
        let start = self.at;
        if self.bytes.get(self.at) != Some(&b'"') {
            return None;
        }
        self.at += 1;
        let mut escaped = false;
        loop {
            match *self.bytes.get(self.at)? {
                b'\\' => {
                    escaped = true;
                    self.at += 2;
                }
                b'"' => {
                    self.at += 1;
                    break;
                }
                b'\n' => return None,
                _ => self.at += 1,
            }
        }
        let raw = std::str::from_utf8(self.bytes.get(start..self.at)?).ok()?;
        Some((raw, escaped))
    }

    /// An object key, decoded (keys may use escapes such as `\u0069d`).
    fn key(&mut self) -> Option<std::borrow::Cow<'a, str>> {
        let (raw, escaped) = self.string()?;
        if escaped {
            serde_json::from_str::<String>(raw).ok().map(Into::into)
        } else {
            raw.get(1..raw.len() - 1).map(Into::into)
        }
    }

    /// Skips one value of any shape, nesting tracked by a counter.
    fn skip_value(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            self.skip_whitespace();
            match *self.bytes.get(self.at)? {
                b'"' => {
                    self.string()?;
                }
                b'{' | b'[' => {
                    depth += 1;
                    self.at += 1;
                }
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    self.at += 1;
                }
                b',' | b':' if depth > 0 => self.at += 1,
                b',' | b':' => return None,
                _ => {
                    let start = self.at;
                    while let Some(&b) = self.bytes.get(self.at) {
                        if matches!(b, b',' | b']' | b'}' | b':' | b' ' | b'\t' | b'\r' | b'\n') {
                            break;
                        }
                        self.at += 1;
                    }
                    if self.at == start {
                        return None;
                    }
                }
            }
            if depth == 0 {
                return Some(());
            }
        }
    }
}
