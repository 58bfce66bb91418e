//! The minimal view of a span the sampler needs, borrowed from any span type.

/// What the sampler reads from a span. Build one per span from whatever model the caller
/// holds (OTLP, Jaeger, Zipkin, CSV rows); nothing is copied.
///
/// Ids are raw bytes because formats disagree on them: OTLP/JSON hex text, Jaeger
/// numbers, research CSVs arbitrary strings. The sampler only compares and hashes them, so
/// pass them in whatever form the reader produced, but the same form for every span of a
/// trace (a child's `parent_span_id` must equal its parent's `span_id` byte for byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanView<'a> {
    /// Trace id; the consistent sampling decision is a function of these bytes.
    pub trace_id: &'a [u8],
    /// Span id, unique within the trace (duplicates are tolerated and reported).
    pub span_id: &'a [u8],
    /// Parent span id; `None` or an empty slice means the span is a root.
    pub parent_span_id: Option<&'a [u8]>,
    /// Span name, matched against the policy's rules.
    pub name: &'a str,
    /// Service (OTLP `service.name`); empty when unknown.
    pub service: &'a str,
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
}
