//! Diagnostics: what the analysis noticed but tolerated (skipped files, syntax errors,
//! unresolved things). Analysis never fails on bad input; it reports here instead.

use serde::Serialize;
use std::fmt;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational: nothing lost.
    Note,
    /// Something was skipped or guessed.
    Warning,
}

/// One diagnostic, naming the file (and line) it is about when it has one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Diagnostic {
    /// Severity.
    pub severity: Severity,
    /// File, relative to the source root (or as given), if any.
    pub path: Option<String>,
    /// 1-based line, if known.
    pub line: Option<u32>,
    /// What happened.
    pub message: String,
}

impl Diagnostic {
    /// A warning about a file.
    pub fn warning(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            path: Some(path.into()),
            line: None,
            message: message.into(),
        }
    }

    /// A note about a file.
    pub fn note(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Note,
            path: Some(path.into()),
            line: None,
            message: message.into(),
        }
    }

    /// A warning about the whole input.
    pub fn global_warning(message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            path: None,
            line: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Note => "note",
            Severity::Warning => "warning",
        };
        match (&self.path, self.line) {
            (Some(path), Some(line)) => write!(f, "{level}: {path}:{line}: {}", self.message),
            (Some(path), None) => write!(f, "{level}: {path}: {}", self.message),
            _ => write!(f, "{level}: {}", self.message),
        }
    }
}
