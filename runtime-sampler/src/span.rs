//! The minimal view of a span the sampler needs, borrowed from any span type.

pub use policy_schema::SpanKind;

/// What the sampler reads from a span. Build one per span from whatever model the caller
/// holds (OTLP, Jaeger, Zipkin, CSV rows, an SDK's span at start); nothing is copied.
///
/// Ids are raw bytes because formats disagree on them: OTLP binary, Jaeger and OTLP/JSON
/// hex text, research CSVs arbitrary strings. The sampler compares and hashes them, and
/// reads the trace's randomness from the trace id by the rules of
/// [`crate::consistent`] (16 or 8 binary bytes, 32 or 16 hex characters, else a hash),
/// so pass them in whatever form the reader produced, but the same form for every span
/// of a trace (a child's `parent_span_id` must equal its parent's `span_id` byte for
/// byte).
#[derive(Clone, Copy)]
pub struct SpanView<'a> {
    /// Trace id; the consistent sampling decision is a function of these bytes (unless
    /// the tracestate carries an explicit `rv`).
    pub trace_id: &'a [u8],
    /// Span id, unique within the trace (duplicates are tolerated and reported).
    pub span_id: &'a [u8],
    /// Parent span id; `None` or an empty slice means the span is a root.
    pub parent_span_id: Option<&'a [u8]>,
    /// The W3C tracestate (`""` when none): its `ot` entry's `rv` overrides the trace
    /// id's randomness.
    pub trace_state: &'a str,
    /// Span name, matched against the policy's rules.
    pub name: &'a str,
    /// Service (OTLP `service.name`); empty when unknown.
    pub service: &'a str,
    /// Span kind; `None` when unspecified (matches no rule with a `kind` condition).
    pub kind: Option<SpanKind>,
    /// The span's start attributes, looked up only when a candidate rule has attribute
    /// conditions.
    pub attributes: &'a dyn SpanAttributes,
    /// Whether the span's status is error.
    pub is_error: bool,
    /// Start time, Unix nanoseconds: the clock of the budget controller.
    pub start_unix_nano: u64,
    /// Duration in nanoseconds: the input of the latency override.
    pub duration_nanos: u64,
}

impl<'a> SpanView<'a> {
    /// The parent id, with the empty id (OTLP's encoding of "no parent") read as none.
    pub fn parent(&self) -> Option<&'a [u8]> {
        self.parent_span_id.filter(|id| !id.is_empty())
    }

    /// What a span's head decision depends on.
    pub fn start(&self) -> SpanStart<'a> {
        SpanStart {
            trace_id: self.trace_id,
            trace_state: self.trace_state,
            service: self.service,
            name: self.name,
            kind: self.kind,
            attributes: self.attributes,
        }
    }
}

impl Default for SpanView<'_> {
    /// A root span with empty ids, name and service, no attributes, at time 0.
    fn default() -> Self {
        Self {
            trace_id: &[],
            span_id: &[],
            parent_span_id: None,
            trace_state: "",
            name: "",
            service: "",
            kind: None,
            attributes: &NO_ATTRIBUTES,
            is_error: false,
            start_unix_nano: 0,
            duration_nanos: 0,
        }
    }
}

impl std::fmt::Debug for SpanView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpanView")
            .field("trace_id", &self.trace_id)
            .field("span_id", &self.span_id)
            .field("parent_span_id", &self.parent_span_id)
            .field("trace_state", &self.trace_state)
            .field("name", &self.name)
            .field("service", &self.service)
            .field("kind", &self.kind)
            .field("is_error", &self.is_error)
            .field("start_unix_nano", &self.start_unix_nano)
            .field("duration_nanos", &self.duration_nanos)
            .finish_non_exhaustive()
    }
}

/// The inputs of a span's head decision: what an SDK sampler knows when a span starts.
#[derive(Clone, Copy)]
pub struct SpanStart<'a> {
    /// Trace id bytes (see [`SpanView::trace_id`]).
    pub trace_id: &'a [u8],
    /// W3C tracestate of the parent context (`""` when none).
    pub trace_state: &'a str,
    /// Service (resource `service.name`).
    pub service: &'a str,
    /// Span name.
    pub name: &'a str,
    /// Span kind, `None` when unspecified.
    pub kind: Option<SpanKind>,
    /// Start attributes.
    pub attributes: &'a dyn SpanAttributes,
}

impl std::fmt::Debug for SpanStart<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpanStart")
            .field("trace_id", &self.trace_id)
            .field("trace_state", &self.trace_state)
            .field("service", &self.service)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// An attribute value as rule conditions see it. Values of other types (bytes, arrays,
/// maps) are not offered: a lookup returns `None` for them, like an absent attribute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AttributeValue<'a> {
    /// A string, compared as it is.
    Str(&'a str),
    /// A boolean, compared as `true` or `false`.
    Bool(bool),
    /// A 64-bit integer, compared in decimal.
    Int(i64),
    /// A double, compared in its canonical text (the shortest round-trip digits, laid out
    /// as ECMAScript's `Number.prototype.toString` does).
    Double(f64),
}

/// Looks up a span's start attributes by key. Implement it for a borrowed view of your
/// span's attributes (a slice of key-value pairs, a protobuf message); it is called only
/// for the keys of conditions of candidate rules, so a linear scan is fine.
pub trait SpanAttributes {
    /// The value of attribute `key`, or `None` when it is absent or of another type.
    fn attribute(&self, key: &str) -> Option<AttributeValue<'_>>;
}

/// No attributes at all.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAttributes;

/// The empty attribute set, for spans without attributes.
pub static NO_ATTRIBUTES: NoAttributes = NoAttributes;

impl SpanAttributes for NoAttributes {
    fn attribute(&self, _key: &str) -> Option<AttributeValue<'_>> {
        None
    }
}

/// The first pair with the key wins.
fn find_pair<'p>(pairs: &'p [(&str, AttributeValue<'_>)], key: &str) -> Option<AttributeValue<'p>> {
    pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// Pairs in a slice (pass `&slice`, a `&&[…]`, where a `&dyn SpanAttributes` is wanted).
impl SpanAttributes for &[(&str, AttributeValue<'_>)] {
    fn attribute(&self, key: &str) -> Option<AttributeValue<'_>> {
        find_pair(self, key)
    }
}

/// Pairs in an array.
impl<const N: usize> SpanAttributes for [(&str, AttributeValue<'_>); N] {
    fn attribute(&self, key: &str) -> Option<AttributeValue<'_>> {
        find_pair(self, key)
    }
}

/// Pairs in a vector.
impl SpanAttributes for Vec<(&str, AttributeValue<'_>)> {
    fn attribute(&self, key: &str) -> Option<AttributeValue<'_>> {
        find_pair(self, key)
    }
}
