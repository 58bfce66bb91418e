//! Errors of reading and writing trace files: each names the file it came from and,
//! where known, the line and column.

use crate::format::{Format, RESEARCH_HEADER, SKYWALKING_HEADER};

/// Why a trace file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The content matches none of the supported formats.
    #[error(
        "cannot tell the format of {origin}: expected OTLP/JSON, Jaeger JSON, Zipkin v2 JSON, \
         or a CSV with header `{SKYWALKING_HEADER}` or `{RESEARCH_HEADER}`"
    )]
    UnknownFormat {
        /// The file (or other source) that was read.
        origin: String,
    },
    /// The content is malformed for its format.
    #[error("{origin}:{}: invalid {format}: {message}", position(*.line, *.column))]
    Invalid {
        /// The file (or other source) that was read.
        origin: String,
        /// The format the content was read as.
        format: Format,
        /// 1-based line.
        line: usize,
        /// 1-based column (bytes), when known.
        column: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// The input holds no trace data at all (no bytes, or only whitespace).
    #[error("{origin}: empty: no trace data to read")]
    Empty {
        /// The file (or other source) that was read.
        origin: String,
    },
    /// The file could not be read at all. The cause is part of the message (not a
    /// `source()`), so that it is said once.
    #[error("{origin}: cannot read: {}", describe_io(error))]
    Io {
        /// The file that was read.
        origin: String,
        /// The underlying error.
        error: std::io::Error,
    },
}

/// An I/O error as a user reads it: a missing file is "no such file", a folder "is a
/// folder, not a file", and no `(os error N)` suffix.
pub fn describe_io(error: &std::io::Error) -> String {
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

fn position(line: usize, column: Option<usize>) -> String {
    match column {
        Some(column) => format!("{line}:{column}"),
        None => line.to_string(),
    }
}

impl ReadError {
    /// The file (or other source) named in the error.
    pub fn origin(&self) -> &str {
        match self {
            Self::UnknownFormat { origin }
            | Self::Empty { origin }
            | Self::Invalid { origin, .. }
            | Self::Io { origin, .. } => origin,
        }
    }

    /// The 1-based line of the problem, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Invalid { line, .. } => Some(*line),
            _ => None,
        }
    }

    /// The 1-based column of the problem, when known.
    pub fn column(&self) -> Option<usize> {
        match self {
            Self::Invalid { column, .. } => *column,
            _ => None,
        }
    }

    /// Maps a serde_json error (which knows its line and column) to a [`ReadError`].
    pub(crate) fn from_json(origin: &str, format: Format, error: &serde_json::Error) -> Self {
        let line = error.line().max(1);
        let column = error.column();
        let text = error.to_string();
        let suffix = format!(" at line {} column {}", error.line(), error.column());
        let message = text.strip_suffix(&suffix).unwrap_or(&text).to_string();
        Self::Invalid {
            origin: origin.to_string(),
            format,
            line,
            column: (column > 0).then_some(column),
            message,
        }
    }
}

/// Why spans could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The output could not be written.
    #[error("cannot write: {0}")]
    Io(#[from] std::io::Error),
    /// A [`crate::KeptSpan`] refers to a span the document does not have.
    #[error("span index {index} is out of range: the document has {len} spans")]
    IndexOutOfRange {
        /// The offending index.
        index: usize,
        /// Number of spans in the document.
        len: usize,
    },
    /// The same span was listed twice among the kept spans.
    #[error("span index {0} is listed twice among the kept spans")]
    DuplicateIndex(usize),
    /// The document's spans no longer line up with the rows it was read from (CSV
    /// writers copy rows byte for byte, so spans cannot be added or removed).
    #[error(
        "the document has {spans} spans but {rows} CSV rows; CSV output copies rows, so spans cannot be added or removed"
    )]
    RowsMismatch {
        /// Number of spans.
        spans: usize,
        /// Number of rows read.
        rows: usize,
    },
}

impl From<serde_json::Error> for WriteError {
    fn from(error: serde_json::Error) -> Self {
        Self::Io(std::io::Error::other(error))
    }
}
