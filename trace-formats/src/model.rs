//! The span model every reader produces and every writer consumes: OTLP's span, field
//! for field, so that nothing a format carries is lost on the way through.

use std::sync::Arc;

/// Attribute holding the original bytes of a name that is not UTF-8 (the name itself
/// then holds its lossy text): on a span, of the span name; on a scope, of the scope
/// name. Readers of byte-oriented formats (the CSVs) add it, so that `convert` and
/// tracezip lose nothing.
pub const ORIGINAL_NAME: &str = "autoscope.original_name";

/// Resource attribute holding the original bytes of a `service.name` that is not
/// UTF-8 (see [`ORIGINAL_NAME`]).
pub const ORIGINAL_SERVICE_NAME: &str = "autoscope.original_service_name";

/// One span, shaped like OTLP's `Span` with its resource and scope attached.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Span {
    /// Trace id bytes: 16 for OTLP/W3C; formats with textual ids keep their text's bytes.
    pub trace_id: Vec<u8>,
    /// Span id bytes: 8 for OTLP; formats with textual ids keep their text's bytes.
    pub span_id: Vec<u8>,
    /// Parent span id bytes; empty for a root.
    pub parent_span_id: Vec<u8>,
    /// W3C trace state.
    pub trace_state: String,
    /// Span name (operation name).
    pub name: String,
    /// Span kind.
    pub kind: SpanKind,
    /// Start, nanoseconds since the Unix epoch.
    pub start_time_unix_nano: u64,
    /// End, nanoseconds since the Unix epoch.
    pub end_time_unix_nano: u64,
    /// Span attributes, in input order.
    pub attributes: Vec<KeyValue>,
    /// OTLP dropped attributes count.
    pub dropped_attributes_count: u32,
    /// Span events.
    pub events: Vec<Event>,
    /// OTLP dropped events count.
    pub dropped_events_count: u32,
    /// Span links.
    pub links: Vec<Link>,
    /// OTLP dropped links count.
    pub dropped_links_count: u32,
    /// Status.
    pub status: Status,
    /// OTLP span flags.
    pub flags: u32,
    /// The resource (service) that emitted the span; shared between spans.
    pub resource: Arc<Resource>,
    /// The instrumentation scope; shared between spans.
    pub scope: Arc<Scope>,
}

impl Span {
    /// The `service.name` resource attribute, or `""`.
    pub fn service_name(&self) -> &str {
        self.resource.service_name()
    }

    /// Whether the span's status is error.
    pub fn is_error(&self) -> bool {
        self.status.code == StatusCode::Error
    }

    /// Duration in nanoseconds (0 when the end precedes the start).
    pub fn duration_nanos(&self) -> u64 {
        self.end_time_unix_nano
            .saturating_sub(self.start_time_unix_nano)
    }
}

/// OTLP span kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub enum SpanKind {
    /// Unspecified (0).
    #[default]
    Unspecified,
    /// Internal (1).
    Internal,
    /// Server (2).
    Server,
    /// Client (3).
    Client,
    /// Producer (4).
    Producer,
    /// Consumer (5).
    Consumer,
}

impl SpanKind {
    /// The OTLP enum number.
    pub fn as_i32(self) -> i32 {
        self as i32
    }

    /// From the OTLP enum number; unknown numbers are `Unspecified`.
    pub fn from_i32(n: i32) -> Self {
        match n {
            1 => Self::Internal,
            2 => Self::Server,
            3 => Self::Client,
            4 => Self::Producer,
            5 => Self::Consumer,
            _ => Self::Unspecified,
        }
    }
}

/// An attribute.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KeyValue {
    /// Key.
    pub key: String,
    /// Value.
    pub value: AnyValue,
}

impl KeyValue {
    /// A string attribute.
    pub fn string(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: AnyValue::String(value.into()),
        }
    }
}

/// OTLP `AnyValue`.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum AnyValue {
    /// No value.
    #[default]
    Empty,
    /// String.
    String(String),
    /// Boolean.
    Bool(bool),
    /// 64-bit integer.
    Int(i64),
    /// Double (compared bitwise by tests that need losslessness).
    Double(f64),
    /// Bytes.
    Bytes(Vec<u8>),
    /// Array.
    Array(Vec<AnyValue>),
    /// Key-value list.
    KvList(Vec<KeyValue>),
}

/// A span event.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Event {
    /// Time, nanoseconds since the Unix epoch.
    pub time_unix_nano: u64,
    /// Name.
    pub name: String,
    /// Attributes.
    pub attributes: Vec<KeyValue>,
    /// Dropped attributes count.
    pub dropped_attributes_count: u32,
}

/// A span link.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Link {
    /// Linked trace id.
    pub trace_id: Vec<u8>,
    /// Linked span id.
    pub span_id: Vec<u8>,
    /// Trace state.
    pub trace_state: String,
    /// Attributes.
    pub attributes: Vec<KeyValue>,
    /// Dropped attributes count.
    pub dropped_attributes_count: u32,
    /// Flags.
    pub flags: u32,
}

/// Span status.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Status {
    /// Message.
    pub message: String,
    /// Code.
    pub code: StatusCode,
}

/// OTLP status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StatusCode {
    /// Unset (0).
    #[default]
    Unset,
    /// Ok (1).
    Ok,
    /// Error (2).
    Error,
}

/// The resource: who emitted the span.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resource {
    /// Attributes; `service.name` names the service.
    pub attributes: Vec<KeyValue>,
    /// Dropped attributes count.
    pub dropped_attributes_count: u32,
    /// Schema URL of the `ResourceSpans`.
    pub schema_url: String,
}

impl Resource {
    /// A resource with only `service.name`.
    pub fn for_service(name: impl Into<String>) -> Self {
        Self {
            attributes: vec![KeyValue::string("service.name", name)],
            ..Self::default()
        }
    }

    /// The `service.name` attribute, or `""`.
    pub fn service_name(&self) -> &str {
        self.attributes
            .iter()
            .find(|kv| kv.key == "service.name")
            .and_then(|kv| match &kv.value {
                AnyValue::String(s) => Some(s.as_str()),
                _ => None,
            })
            .unwrap_or("")
    }
}

/// The instrumentation scope.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scope {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Attributes.
    pub attributes: Vec<KeyValue>,
    /// Dropped attributes count.
    pub dropped_attributes_count: u32,
    /// Schema URL of the `ScopeSpans`.
    pub schema_url: String,
}
