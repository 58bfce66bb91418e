//! SkyWalking span CSV (as exported in FudanSELab/DeepTraLog): one row per span,
//! times in epoch milliseconds, textual ids.
//!
//! Mapping: `URL` → name; `Service` → resource `service.name` (one shared resource per
//! service); `Component` → scope name (one shared scope per component); `SpanType`
//! `Entry` → Server (Consumer when the component or name says consumer, as RabbitMQ's
//! and Kafka's do), `Exit` → Client (Producer likewise), `Local` → Internal;
//! `ParentSpan` `-1` → root; `IsError` `true` → status Error and `false` → Unset
//! (either case; anything else is an error naming the line); `Peer` → attribute
//! [`PEER`]. Ids keep their text's bytes.
//!
//! Text that is not UTF-8 is not lost: the name, service and component keep a lossy
//! text in the model (for matching) and their bytes in [`ORIGINAL_NAME`] (span and
//! scope) and [`ORIGINAL_SERVICE_NAME`] (resource) attributes; a peer that is not
//! UTF-8 is a bytes attribute.

use crate::csv::{CsvSpec, FieldError, Row, parse_u64, read_csv};
use crate::document::TraceDocument;
use crate::error::ReadError;
use crate::format::Format;
use crate::model::{
    AnyValue, KeyValue, ORIGINAL_NAME, ORIGINAL_SERVICE_NAME, Resource, Scope, Span, SpanKind,
    Status, StatusCode,
};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

/// Span attribute holding SkyWalking's `Peer` column.
pub const PEER: &str = "skywalking.peer";

const START: usize = 0;
const END: usize = 1;
const URL: usize = 2;
const SPAN_TYPE: usize = 3;
const SERVICE: usize = 4;
const SPAN_ID: usize = 5;
const TRACE_ID: usize = 6;
const PEER_COLUMN: usize = 7;
const PARENT: usize = 8;
const COMPONENT: usize = 9;
const IS_ERROR: usize = 10;

const SPEC: CsvSpec = CsvSpec {
    format: Format::SkyWalkingCsv,
    required: &[
        "StartTime",
        "EndTime",
        "URL",
        "SpanType",
        "Service",
        "SpanId",
        "TraceId",
        "Peer",
        "ParentSpan",
        "Component",
        "IsError",
    ],
    span_id_column: SPAN_ID,
    parent_column: PARENT,
    root_text: b"-1",
};

pub(crate) fn read(bytes: Cow<'_, [u8]>, origin: &str) -> Result<TraceDocument, ReadError> {
    let mut resources = Interner::default();
    let mut scopes = Interner::default();
    read_csv(bytes, origin, &SPEC, |row| {
        let start = millis(row, START)?;
        let end = millis(row, END)?;
        let service = row.get(SERVICE);
        let resource = intern(&mut resources, &service, || {
            let mut resource = Resource::for_service(text(&service));
            resource
                .attributes
                .extend(original_bytes(ORIGINAL_SERVICE_NAME, &service));
            resource
        });
        let component = row.get(COMPONENT);
        let scope = intern(&mut scopes, &component, || Scope {
            name: text(&component),
            attributes: original_bytes(ORIGINAL_NAME, &component)
                .into_iter()
                .collect(),
            ..Scope::default()
        });
        let url = row.get(URL);
        let name = text(&url);
        let kind = kind_of(&row.get(SPAN_TYPE), &component, &name);
        let parent = row.get(PARENT);
        let parent_span_id = if parent.as_ref() == b"-1" {
            Vec::new()
        } else {
            parent.into_owned()
        };
        let is_error = row.get(IS_ERROR);
        let code = if is_error.eq_ignore_ascii_case(b"true") {
            StatusCode::Error
        } else if is_error.eq_ignore_ascii_case(b"false") {
            StatusCode::Unset
        } else {
            return Err(FieldError {
                column: IS_ERROR,
                message: format!(
                    "{:?} is neither true nor false",
                    String::from_utf8_lossy(&is_error)
                ),
            });
        };
        let peer = row.get(PEER_COLUMN);
        let mut attributes = Vec::new();
        if !peer.is_empty() {
            attributes.push(text_or_bytes(PEER, &peer));
        }
        attributes.extend(original_bytes(ORIGINAL_NAME, &url));
        Ok(Span {
            trace_id: row.get(TRACE_ID).into_owned(),
            span_id: row.get(SPAN_ID).into_owned(),
            parent_span_id,
            trace_state: String::new(),
            name,
            kind,
            start_time_unix_nano: start,
            end_time_unix_nano: end,
            attributes,
            dropped_attributes_count: 0,
            events: Vec::new(),
            dropped_events_count: 0,
            links: Vec::new(),
            dropped_links_count: 0,
            status: Status {
                message: String::new(),
                code,
            },
            flags: 0,
            resource,
            scope,
        })
    })
}

/// Shared values by key, remembering the last hit (rows of one service come in runs).
struct Interner<T> {
    /// The key of `last`, kept in a buffer reused from row to row (no allocation per
    /// change of key).
    last_key: Vec<u8>,
    last: Option<Arc<T>>,
    all: HashMap<Vec<u8>, Arc<T>>,
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Self {
            last_key: Vec::new(),
            last: None,
            all: HashMap::new(),
        }
    }
}

fn intern<T>(interner: &mut Interner<T>, key: &[u8], make: impl FnOnce() -> T) -> Arc<T> {
    if let Some(value) = &interner.last
        && interner.last_key.as_slice() == key
    {
        return value.clone();
    }
    let value = match interner.all.get(key) {
        Some(value) => value.clone(),
        None => {
            let value = Arc::new(make());
            interner.all.insert(key.to_vec(), value.clone());
            value
        }
    };
    interner.last_key.clear();
    interner.last_key.extend_from_slice(key);
    interner.last = Some(value.clone());
    value
}

/// An attribute holding `bytes` when they are not UTF-8 (their text in the model is
/// then lossy), so that nothing of the row is lost on the way to OTLP or tracezip.
pub(crate) fn original_bytes(key: &str, bytes: &[u8]) -> Option<KeyValue> {
    std::str::from_utf8(bytes).is_err().then(|| KeyValue {
        key: key.to_string(),
        value: AnyValue::Bytes(bytes.to_vec()),
    })
}

/// A string attribute, or a bytes attribute when the value is not UTF-8.
pub(crate) fn text_or_bytes(key: &str, bytes: &[u8]) -> KeyValue {
    match std::str::from_utf8(bytes) {
        Ok(text) => KeyValue::string(key, text),
        Err(_) => KeyValue {
            key: key.to_string(),
            value: AnyValue::Bytes(bytes.to_vec()),
        },
    }
}

fn text(bytes: &[u8]) -> String {
    // `from_utf8` checks ASCII a word at a time; the lossy path only for invalid text.
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

fn millis(row: &Row<'_>, column: usize) -> Result<u64, FieldError> {
    let value = parse_u64(&row.get(column)).map_err(|message| FieldError { column, message })?;
    value.checked_mul(1_000_000).ok_or_else(|| FieldError {
        column,
        message: format!("{value} ms is out of range"),
    })
}

fn kind_of(span_type: &[u8], component: &[u8], name: &str) -> SpanKind {
    let says = |word: &str| {
        component.len() >= word.len()
            && component[component.len() - word.len()..].eq_ignore_ascii_case(word.as_bytes())
            || name.len() >= word.len()
                && name.as_bytes()[name.len() - word.len()..].eq_ignore_ascii_case(word.as_bytes())
    };
    match span_type {
        b"Entry" if says("consumer") => SpanKind::Consumer,
        b"Entry" => SpanKind::Server,
        b"Exit" if says("producer") => SpanKind::Producer,
        b"Exit" => SpanKind::Client,
        b"Local" => SpanKind::Internal,
        _ => SpanKind::Unspecified,
    }
}
