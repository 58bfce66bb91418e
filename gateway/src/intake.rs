//! From the bytes of an `ExportTraceServiceRequest` to the spans the assembler buffers.
//!
//! A buffered span keeps a copy of its own protobuf encoding, sliced out of the request
//! (so it pins no request buffer), and only what the sampler reads: ids, times, status
//! and the places of its name and trace state inside that encoding. Nothing else of the
//! span is decoded; kept spans are decoded for forwarding.
//!
//! Slicing is allowed only where the walk below can tell that prost would decode the
//! same thing: every field known, of the right wire type, strings valid UTF-8, nested
//! messages likewise (`plain`). Anything else (unknown fields, a singular message field
//! given twice, a malformed payload) takes the slow path for its `ResourceSpans`: prost
//! decodes it (so a malformed request is refused exactly as before) and its parts are
//! re-encoded and sliced.
//!
//! Resources and scopes are interned ([`OriginCache`]): the same encoded resource (and
//! schema URL) is one `Arc<ResourceOrigin>`, and the same scope under it one
//! `Arc<Origin>`, across the `ScopeSpans` of a request and across requests, and is
//! decoded once.
//!
//! Spans with invalid ids (a trace id other than 16 bytes or all zero, a span id other
//! than 8 bytes or all zero, a parent id neither empty nor 8 bytes) are rejected one by
//! one and reported in the response's partial success (OTLP: "the server MUST
//! … set the rejected_spans field"), the rest of the request is accepted.

use crate::convert;
use bytes::Bytes;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1 as pb;
use prost::Message;
use std::sync::{Arc, Mutex, Weak};
use trace_formats::model;

/// A 16-byte OTLP trace id: the assembler's key.
pub type TraceKey = [u8; 16];

/// An `ExportTraceServiceRequest` with its `ResourceSpans` left encoded (the same wire
/// format: a message field read as bytes).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RawExportRequest {
    /// The encoded `ResourceSpans`.
    #[prost(bytes = "bytes", repeated, tag = "1")]
    pub resource_spans: Vec<Bytes>,
}

impl RawExportRequest {
    /// The same request from a decoded one (OTLP/JSON bodies).
    pub fn from_decoded(request: &ExportTraceServiceRequest) -> Self {
        Self {
            resource_spans: request
                .resource_spans
                .iter()
                .map(|rs| Bytes::from(rs.encode_to_vec()))
                .collect(),
        }
    }
}

/// The resource of a `ResourceSpans`, shared by its spans.
#[derive(Debug)]
pub struct ResourceOrigin {
    /// As received.
    pub proto: Resource,
    /// The `ResourceSpans` schema URL.
    pub schema_url: String,
    /// `service.name`, or empty.
    pub service: String,
    /// The same in the span model (for the archive and the spill).
    pub model: Arc<model::Resource>,
}

/// The resource and scope of a `ScopeSpans`, shared by its spans.
#[derive(Debug)]
pub struct Origin {
    /// The resource.
    pub resource: Arc<ResourceOrigin>,
    /// The scope as received.
    pub scope: Option<InstrumentationScope>,
    /// The `ScopeSpans` schema URL.
    pub schema_url: String,
    /// The scope in the span model.
    pub model_scope: Arc<model::Scope>,
}

/// A span waiting in the assembler.
#[derive(Debug)]
pub struct BufferedSpan {
    /// The span's protobuf encoding.
    pub encoded: Box<[u8]>,
    /// Its resource and scope.
    pub origin: Arc<Origin>,
    /// Span id.
    pub span_id: [u8; 8],
    /// Parent span id; all zero for a root.
    pub parent: [u8; 8],
    /// Where the name is in `encoded` (start, length).
    name_at: (u32, u32),
    /// Where the W3C trace state is in `encoded` (usually empty).
    trace_state_at: (u32, u32),
    /// OTLP span kind number.
    pub kind: i32,
    /// Start, Unix ns.
    pub start_unix_nano: u64,
    /// Duration, ns.
    pub duration_nanos: u64,
    /// Status is error.
    pub is_error: bool,
}

/// Allocator overhead counted per heap allocation (glibc malloc: 8–16 bytes of header
/// plus rounding to 16).
const ALLOCATION_OVERHEAD: usize = 16;

impl BufferedSpan {
    /// Whether the span has no parent.
    pub fn is_root(&self) -> bool {
        self.parent == [0; 8]
    }

    fn text(&self, (start, len): (u32, u32)) -> &str {
        let range = start as usize..start as usize + len as usize;
        // Checked UTF-8 when the span was taken in; this cannot fail.
        std::str::from_utf8(&self.encoded[range]).unwrap_or_default()
    }

    /// Name.
    pub fn name(&self) -> &str {
        self.text(self.name_at)
    }

    /// W3C trace state (usually empty).
    pub fn trace_state(&self) -> &str {
        self.text(self.trace_state_at)
    }

    /// Bytes this span holds in memory, as counted against `--max-memory`: the encoding
    /// (its only allocation; name and trace state live inside it), the struct, and the
    /// allocator's overhead. Resource and scope are shared (interned), not counted per
    /// span.
    pub fn memory_bytes(&self) -> usize {
        self.encoded.len() + std::mem::size_of::<Self>() + ALLOCATION_OVERHEAD
    }

    /// The span kind as rule conditions see it.
    pub fn span_kind(&self) -> Option<runtime_sampler::SpanKind> {
        use runtime_sampler::SpanKind;
        match self.kind {
            1 => Some(SpanKind::Internal),
            2 => Some(SpanKind::Server),
            3 => Some(SpanKind::Client),
            4 => Some(SpanKind::Producer),
            5 => Some(SpanKind::Consumer),
            _ => None,
        }
    }

    /// The span decoded.
    pub fn decode(&self) -> pb::Span {
        // The bytes passed `plain` or were encoded by prost; decoding cannot fail.
        pb::Span::decode(&self.encoded[..]).unwrap_or_default()
    }
}

/// The spans of one request, ready for the assembler.
#[derive(Debug, Default)]
pub struct Intake {
    /// Valid spans with their trace keys, in request order.
    pub spans: Vec<(TraceKey, BufferedSpan)>,
    /// Bytes they hold.
    pub bytes: usize,
    /// Spans rejected for invalid ids.
    pub rejected: u64,
    /// Why the first rejected span was rejected.
    pub first_error: Option<String>,
}

fn id<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    let id: [u8; N] = bytes.try_into().ok()?;
    (id != [0; N]).then_some(id)
}

fn service_of(resource: &Resource) -> String {
    resource
        .attributes
        .iter()
        .find(|kv| kv.key == "service.name")
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s) => {
                Some(s.clone())
            }
            _ => None,
        })
        .unwrap_or_default()
}

/// Interned resources and scopes, shared by the receivers.
///
/// Entries are weak references: an origin lives as long as a buffered or kept span
/// holds it, so a live origin is never duplicated and the cache itself keeps nothing
/// alive. Dead entries are swept when a map has doubled since the last sweep, or, once
/// it is full, every [`OriginCache::MAX_ENTRIES`]` / 16` misses; past
/// [`OriginCache::MAX_ENTRIES`] entries new origins are not cached (still correct, only
/// not shared), which bounds the cache against senders with ever-new resources.
#[derive(Debug, Default)]
pub struct OriginCache {
    resources: Interned<ResourceOrigin>,
    origins: Interned<Origin>,
    /// Reused to build lookup keys without allocating.
    key: Vec<u8>,
}

/// One map of an [`OriginCache`], by encoded key.
#[derive(Debug)]
struct Interned<T> {
    map: ahash::AHashMap<Box<[u8]>, Weak<T>>,
    sweep_at: usize,
    misses_since_sweep: usize,
}

impl<T> Default for Interned<T> {
    fn default() -> Self {
        Self {
            map: Default::default(),
            sweep_at: 64,
            misses_since_sweep: 0,
        }
    }
}

impl<T> Interned<T> {
    /// Upgrades the entry of `key`, or makes the value, caches it (within bounds) and
    /// returns it.
    fn get_or_make(
        &mut self,
        key: &[u8],
        make: impl FnOnce() -> Result<T, prost::DecodeError>,
    ) -> Result<Arc<T>, prost::DecodeError> {
        if let Some(found) = self.map.get(key).and_then(Weak::upgrade) {
            return Ok(found);
        }
        let made = Arc::new(make()?);
        self.misses_since_sweep += 1;
        let full = self.map.len() >= OriginCache::MAX_ENTRIES;
        if self.map.len() >= self.sweep_at
            || (full && self.misses_since_sweep >= OriginCache::MAX_ENTRIES / 16)
        {
            self.map.retain(|_, entry| entry.strong_count() > 0);
            self.sweep_at = (self.map.len() * 2).max(64);
            self.misses_since_sweep = 0;
        }
        if self.map.len() < OriginCache::MAX_ENTRIES || self.map.contains_key(key) {
            self.map.insert(key.into(), Arc::downgrade(&made));
        }
        Ok(made)
    }
}

impl OriginCache {
    /// Most live entries per map.
    pub const MAX_ENTRIES: usize = 16_384;

    /// Entries held (live or not yet swept): resources, origins.
    pub fn len(&self) -> (usize, usize) {
        (self.resources.map.len(), self.origins.map.len())
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.resources.map.is_empty() && self.origins.map.is_empty()
    }

    /// The resource of an encoded `Resource` (empty when absent) and schema URL.
    fn resource(
        &mut self,
        encoded: &[u8],
        schema_url: &str,
    ) -> Result<Arc<ResourceOrigin>, prost::DecodeError> {
        self.key.clear();
        self.key
            .extend_from_slice(&(encoded.len() as u64).to_le_bytes());
        self.key.extend_from_slice(encoded);
        self.key.extend_from_slice(schema_url.as_bytes());
        self.resources.get_or_make(&self.key, || {
            let proto = Resource::decode(encoded)?;
            Ok(ResourceOrigin {
                service: service_of(&proto),
                model: Arc::new(convert::resource_from_proto(Some(&proto), schema_url)),
                proto,
                schema_url: schema_url.to_string(),
            })
        })
    }

    /// The origin of an encoded scope (`None`: absent) and schema URL under `resource`.
    fn origin(
        &mut self,
        resource: &Arc<ResourceOrigin>,
        scope: Option<&[u8]>,
        schema_url: &str,
    ) -> Result<Arc<Origin>, prost::DecodeError> {
        self.key.clear();
        // The resource is alive while an origin under it is, so its address is unique
        // among live entries.
        self.key
            .extend_from_slice(&(Arc::as_ptr(resource) as usize as u64).to_le_bytes());
        let scope_bytes = scope.unwrap_or_default();
        self.key.push(u8::from(scope.is_some()));
        self.key
            .extend_from_slice(&(scope_bytes.len() as u64).to_le_bytes());
        self.key.extend_from_slice(scope_bytes);
        self.key.extend_from_slice(schema_url.as_bytes());
        self.origins.get_or_make(&self.key, || {
            let scope = scope.map(InstrumentationScope::decode).transpose()?;
            Ok(Origin {
                resource: resource.clone(),
                model_scope: Arc::new(convert::scope_from_proto(scope.as_ref(), schema_url)),
                scope,
                schema_url: schema_url.to_string(),
            })
        })
    }
}

/// What the sampler reads of an encoded span (the last occurrence of each field wins,
/// as in prost; the status codes of repeated status fields merge the same way).
struct SpanFields<'a> {
    trace_id: &'a [u8],
    span_id: &'a [u8],
    parent: &'a [u8],
    name: &'a [u8],
    trace_state: &'a [u8],
    kind: i32,
    start: u64,
    end: u64,
    status_code: i32,
}

fn span_fields(encoded: &[u8]) -> SpanFields<'_> {
    let mut out = SpanFields {
        trace_id: &[],
        span_id: &[],
        parent: &[],
        name: &[],
        trace_state: &[],
        kind: 0,
        start: 0,
        end: 0,
        status_code: 0,
    };
    for (number, field) in fields(encoded) {
        match (number, field) {
            (1, Field::Bytes(b)) => out.trace_id = b,
            (2, Field::Bytes(b)) => out.span_id = b,
            (3, Field::Bytes(b)) => out.trace_state = b,
            (4, Field::Bytes(b)) => out.parent = b,
            (5, Field::Bytes(b)) => out.name = b,
            (6, Field::Varint(v)) => out.kind = v as i32,
            (7, Field::Fixed64(v)) => out.start = v,
            (8, Field::Fixed64(v)) => out.end = v,
            (15, Field::Bytes(status)) => {
                for (number, field) in fields(status) {
                    if let (3, Field::Varint(code)) = (number, field) {
                        out.status_code = code as i32;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Where `part` (a subslice of `whole`) is in `whole`, as a compact range.
fn place(whole: &[u8], part: &[u8]) -> (u32, u32) {
    if part.is_empty() {
        // Possibly the absent field's `&[]`, not inside `whole`.
        return (0, 0);
    }
    let start = part.as_ptr() as usize - whole.as_ptr() as usize;
    match (u32::try_from(start), u32::try_from(part.len())) {
        (Ok(start), Ok(len)) => (start, len),
        _ => (0, 0),
    }
}

/// Checks the ids of an encoded span and adds it to `out` (or counts it rejected).
fn take_span(encoded: &[u8], origin: &Arc<Origin>, out: &mut Intake) {
    let span = span_fields(encoded);
    let trace_id = id::<16>(span.trace_id);
    let span_id = id::<8>(span.span_id);
    let parent = if span.parent.is_empty() {
        Some([0; 8])
    } else {
        span.parent.try_into().ok()
    };
    let (Some(trace_id), Some(span_id), Some(parent)) = (trace_id, span_id, parent) else {
        out.rejected += 1;
        if out.first_error.is_none() {
            out.first_error = Some(format!(
                "span {:?}: invalid ids (trace id {} bytes, span id {} bytes, \
                 parent id {} bytes; OTLP needs 16, 8 and 0 or 8, not all zero)",
                String::from_utf8_lossy(span.name),
                span.trace_id.len(),
                span.span_id.len(),
                span.parent.len()
            ));
        }
        return;
    };
    let buffered = BufferedSpan {
        encoded: encoded.into(),
        origin: origin.clone(),
        span_id,
        parent,
        name_at: place(encoded, span.name),
        trace_state_at: place(encoded, span.trace_state),
        kind: span.kind,
        start_unix_nano: span.start,
        duration_nanos: span.end.saturating_sub(span.start),
        is_error: span.status_code == 2,
    };
    out.bytes += buffered.memory_bytes();
    out.spans.push((trace_id, buffered));
}

/// The messages of a span, for [`plain`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Span,
    KeyValue,
    AnyValue,
    ArrayValue,
    KeyValueList,
    Event,
    Link,
    Status,
}

/// What a known field holds.
#[derive(Debug, Clone, Copy)]
enum Content {
    Varint,
    Fixed64,
    Fixed32,
    Str,
    Bytes,
    Repeated(Shape),
    /// A singular message field (prost merges repeats: not plain).
    Single(Shape),
}

fn content_of(shape: Shape, number: u64) -> Option<Content> {
    use Content::*;
    Some(match (shape, number) {
        (Shape::Span, 1 | 2 | 4) => Bytes,
        (Shape::Span, 3 | 5) => Str,
        (Shape::Span, 6 | 10 | 12 | 14) => Varint,
        (Shape::Span, 7 | 8) => Fixed64,
        (Shape::Span, 9) => Repeated(Shape::KeyValue),
        (Shape::Span, 11) => Repeated(Shape::Event),
        (Shape::Span, 13) => Repeated(Shape::Link),
        (Shape::Span, 15) => Single(Shape::Status),
        (Shape::Span, 16) => Fixed32,
        (Shape::KeyValue, 1) => Str,
        (Shape::KeyValue, 2) => Single(Shape::AnyValue),
        (Shape::KeyValue, 3) => Varint,
        (Shape::AnyValue, 1) => Str,
        (Shape::AnyValue, 2 | 3 | 8) => Varint,
        (Shape::AnyValue, 4) => Fixed64,
        (Shape::AnyValue, 5) => Single(Shape::ArrayValue),
        (Shape::AnyValue, 6) => Single(Shape::KeyValueList),
        (Shape::AnyValue, 7) => Bytes,
        (Shape::ArrayValue, 1) => Repeated(Shape::AnyValue),
        (Shape::KeyValueList, 1) => Repeated(Shape::KeyValue),
        (Shape::Event, 1) => Fixed64,
        (Shape::Event, 2) => Str,
        (Shape::Event, 3) => Repeated(Shape::KeyValue),
        (Shape::Event, 4) => Varint,
        (Shape::Link, 1 | 2) => Bytes,
        (Shape::Link, 3) => Str,
        (Shape::Link, 4) => Repeated(Shape::KeyValue),
        (Shape::Link, 5) => Varint,
        (Shape::Link, 6) => Fixed32,
        (Shape::Status, 2) => Str,
        (Shape::Status, 3) => Varint,
        _ => return None,
    })
}

/// Deepest nesting `plain` follows (prost allows 100; deeper goes the slow path).
const PLAIN_DEPTH: u32 = 32;

/// Whether prost decodes `buf` as a message of `shape` to exactly what reading it in
/// place gives: well-formed, every field known and of its wire type, strings UTF-8, no
/// singular message field twice, at most one field of an `AnyValue` (its oneof). False
/// does not mean malformed, only "let prost decide".
fn plain(mut buf: &[u8], shape: Shape, depth: u32) -> bool {
    if depth > PLAIN_DEPTH {
        return false;
    }
    let mut singles_seen = 0u32;
    let mut fields_seen = 0u32;
    while !buf.is_empty() {
        let Some(key) = varint(&mut buf) else {
            return false;
        };
        let Some(content) = content_of(shape, key >> 3) else {
            return false;
        };
        fields_seen += 1;
        if shape == Shape::AnyValue && fields_seen > 1 {
            return false;
        }
        let ok = match (key & 7, content) {
            (0, Content::Varint) => varint(&mut buf).is_some(),
            (1, Content::Fixed64) => buf.split_off(..8).is_some(),
            (5, Content::Fixed32) => buf.split_off(..4).is_some(),
            (2, content) => {
                let Some(bytes) = varint(&mut buf)
                    .and_then(|len| usize::try_from(len).ok())
                    .and_then(|len| buf.split_off(..len))
                else {
                    return false;
                };
                match content {
                    Content::Str => std::str::from_utf8(bytes).is_ok(),
                    Content::Bytes => true,
                    Content::Repeated(inner) => plain(bytes, inner, depth + 1),
                    Content::Single(inner) => {
                        let bit = 1u32 << ((key >> 3) & 31);
                        let first = singles_seen & bit == 0;
                        singles_seen |= bit;
                        first && plain(bytes, inner, depth + 1)
                    }
                    _ => false,
                }
            }
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// The fields of a `ResourceSpans` or `ScopeSpans` (both: 1 a singular message, 2
/// repeated messages, 3 the schema URL), when plain.
struct Container<'a> {
    first: Option<&'a [u8]>,
    schema_url: &'a str,
}

fn container(buf: &[u8]) -> Option<Container<'_>> {
    let mut out = Container {
        first: None,
        schema_url: "",
    };
    let mut rest = buf;
    while !rest.is_empty() {
        let key = varint(&mut rest)?;
        if key & 7 != 2 {
            return None;
        }
        let len = usize::try_from(varint(&mut rest)?).ok()?;
        let bytes = rest.split_off(..len)?;
        match key >> 3 {
            1 if out.first.is_none() => out.first = Some(bytes),
            2 => {}
            3 => out.schema_url = std::str::from_utf8(bytes).ok()?,
            _ => return None,
        }
    }
    Some(out)
}

/// The encoded messages of field 2 (checked well-formed by [`container`]).
fn repeated_field_2(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    fields(buf).filter_map(|(number, field)| match (number, field) {
        (2, Field::Bytes(bytes)) => Some(bytes),
        _ => None,
    })
}

/// Takes the spans of a plain `ResourceSpans`; false (and nothing added) when it is not
/// plain.
fn take_plain(encoded: &[u8], cache: &Mutex<OriginCache>, out: &mut Intake) -> bool {
    let Some(resource_spans) = container(encoded) else {
        return false;
    };
    let lock = || cache.lock().unwrap_or_else(|e| e.into_inner());
    let Ok(resource) = lock().resource(
        resource_spans.first.unwrap_or_default(),
        resource_spans.schema_url,
    ) else {
        return false;
    };
    let (spans_before, bytes_before, rejected_before) = (out.spans.len(), out.bytes, out.rejected);
    let had_error = out.first_error.is_some();
    let undo = |out: &mut Intake| {
        out.spans.truncate(spans_before);
        out.bytes = bytes_before;
        out.rejected = rejected_before;
        if !had_error {
            out.first_error = None;
        }
        false
    };
    for scope_spans in repeated_field_2(encoded) {
        let Some(scope) = container(scope_spans) else {
            return undo(out);
        };
        let Ok(origin) = lock().origin(&resource, scope.first, scope.schema_url) else {
            return undo(out);
        };
        for span in repeated_field_2(scope_spans) {
            if !plain(span, Shape::Span, 0) {
                return undo(out);
            }
            take_span(span, &origin, out);
        }
    }
    true
}

/// Takes the spans of a `ResourceSpans` prost decodes, re-encoding its parts.
fn take_decoded(
    resource_spans: pb::ResourceSpans,
    cache: &Mutex<OriginCache>,
    out: &mut Intake,
) -> Result<(), String> {
    let lock = || cache.lock().unwrap_or_else(|e| e.into_inner());
    let resource = resource_spans.resource.unwrap_or_default().encode_to_vec();
    let resource = lock()
        .resource(&resource, &resource_spans.schema_url)
        .map_err(|e| e.to_string())?;
    for scope_spans in resource_spans.scope_spans {
        let scope = scope_spans.scope.as_ref().map(Message::encode_to_vec);
        let origin = lock()
            .origin(&resource, scope.as_deref(), &scope_spans.schema_url)
            .map_err(|e| e.to_string())?;
        for span in scope_spans.spans {
            take_span(&span.encode_to_vec(), &origin, out);
        }
    }
    Ok(())
}

/// Takes a request apart into buffered spans; `Err` (the message for the sender) when
/// it is malformed.
pub fn intake(request: &RawExportRequest, cache: &Mutex<OriginCache>) -> Result<Intake, String> {
    let mut out = Intake::default();
    for encoded in &request.resource_spans {
        if take_plain(encoded, cache, &mut out) {
            continue;
        }
        let decoded = pb::ResourceSpans::decode(&encoded[..])
            .map_err(|e| format!("malformed protobuf ExportTraceServiceRequest: {e}"))?;
        take_decoded(decoded, cache, &mut out)?;
    }
    Ok(out)
}

/// An OTLP/JSON request body as a protobuf request (read with the `trace-formats`
/// OTLP/JSON reader, which follows the specification's JSON mapping).
pub fn request_from_json(body: &[u8]) -> Result<ExportTraceServiceRequest, String> {
    let doc = trace_formats::read_as(trace_formats::Format::OtlpJson, body, "request body")
        .map_err(|e| e.to_string())?;
    Ok(ExportTraceServiceRequest {
        resource_spans: convert::spans_to_resource_spans(&doc.spans),
    })
}

/// One field of a protobuf message: its number and its value.
#[derive(Debug, Clone, Copy)]
enum Field<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32,
}

/// A varint as prost reads it: at most ten bytes, the tenth at most 1.
fn varint(buf: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = buf.split_first()?;
        if shift == 63 && byte > 1 {
            return None;
        }
        *buf = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The fields of an encoded message, in order; stops at the first malformed byte.
fn fields(mut buf: &[u8]) -> impl Iterator<Item = (u64, Field<'_>)> {
    std::iter::from_fn(move || {
        let key = varint(&mut buf)?;
        let field = match key & 7 {
            0 => Field::Varint(varint(&mut buf)?),
            1 => {
                let (bytes, rest) = buf.split_at_checked(8)?;
                buf = rest;
                Field::Fixed64(u64::from_le_bytes(bytes.try_into().ok()?))
            }
            2 => {
                let len = usize::try_from(varint(&mut buf)?).ok()?;
                let (bytes, rest) = buf.split_at_checked(len)?;
                buf = rest;
                Field::Bytes(bytes)
            }
            5 => {
                buf = buf.get(4..)?;
                Field::Fixed32
            }
            _ => return None,
        };
        Some((key >> 3, field))
    })
}

/// The attributes of an encoded span, looked up in place (no decoding, no copies): what
/// rule conditions read.
#[derive(Debug, Clone, Copy)]
pub struct EncodedAttributes<'a>(pub &'a [u8]);

impl runtime_sampler::SpanAttributes for EncodedAttributes<'_> {
    fn attribute(&self, key: &str) -> Option<runtime_sampler::AttributeValue<'_>> {
        use runtime_sampler::AttributeValue;
        // Span field 9: repeated KeyValue { key = 1; value = 2 (AnyValue) }.
        for (number, field) in fields(self.0) {
            let (9, Field::Bytes(pair)) = (number, field) else {
                continue;
            };
            let mut found_key = None;
            let mut value = None;
            for (number, field) in fields(pair) {
                match (number, field) {
                    (1, Field::Bytes(k)) => found_key = Some(k),
                    (2, Field::Bytes(v)) => value = Some(v),
                    _ => {}
                }
            }
            if found_key != Some(key.as_bytes()) {
                continue;
            }
            // The first pair with the key wins, as for the file commands.
            let mut result = None;
            for (number, field) in fields(value.unwrap_or(&[])) {
                result = match (number, field) {
                    (1, Field::Bytes(s)) => std::str::from_utf8(s).ok().map(AttributeValue::Str),
                    (2, Field::Varint(b)) => Some(AttributeValue::Bool(b != 0)),
                    (3, Field::Varint(i)) => Some(AttributeValue::Int(i as i64)),
                    (4, Field::Fixed64(d)) => Some(AttributeValue::Double(f64::from_bits(d))),
                    _ => None,
                };
            }
            return result;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{
        AnyValue, ArrayValue, KeyValue, KeyValueList, any_value::Value,
    };
    use runtime_sampler::{AttributeValue, SpanAttributes};

    fn kv(key: &str, value: Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(value) }),
            key_strindex: 0,
        }
    }

    fn resource(service: &str) -> Resource {
        Resource {
            attributes: vec![kv("service.name", Value::StringValue(service.into()))],
            ..Default::default()
        }
    }

    /// A span with every kind of field, nested values included.
    fn full_span(n: u8) -> pb::Span {
        pb::Span {
            trace_id: vec![n; 16],
            span_id: vec![n + 1; 8],
            parent_span_id: vec![n + 2; 8],
            trace_state: if n.is_multiple_of(2) {
                "k=v".into()
            } else {
                String::new()
            },
            name: format!("GET /{n}"),
            kind: 2,
            start_time_unix_nano: 1_000,
            end_time_unix_nano: 3_500,
            flags: 0x101,
            attributes: vec![
                kv("http.method", Value::StringValue("GET".into())),
                kv("n", Value::IntValue(-503)),
                kv(
                    "list",
                    Value::ArrayValue(ArrayValue {
                        values: vec![AnyValue {
                            value: Some(Value::KvlistValue(KeyValueList {
                                values: vec![kv("inner", Value::BoolValue(true))],
                            })),
                        }],
                    }),
                ),
                kv("blob", Value::BytesValue(vec![0, 1, 2])),
            ],
            dropped_attributes_count: 1,
            events: vec![pb::span::Event {
                time_unix_nano: 2_000,
                name: "exception".into(),
                attributes: vec![kv("exception.type", Value::StringValue("E".into()))],
                dropped_attributes_count: 0,
            }],
            dropped_events_count: 2,
            links: vec![pb::span::Link {
                trace_id: vec![9; 16],
                span_id: vec![8; 8],
                trace_state: String::new(),
                attributes: vec![kv("d", Value::DoubleValue(0.5))],
                dropped_attributes_count: 0,
                flags: 1,
            }],
            dropped_links_count: 0,
            status: Some(pb::Status {
                message: "boom".into(),
                code: 2,
            }),
        }
    }

    fn request(resources: &[(&str, &str)], spans_per_scope: u8) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: resources
                .iter()
                .enumerate()
                .map(|(i, (service, scope))| pb::ResourceSpans {
                    resource: Some(resource(service)),
                    scope_spans: vec![pb::ScopeSpans {
                        scope: Some(InstrumentationScope {
                            name: scope.to_string(),
                            ..Default::default()
                        }),
                        spans: (0..spans_per_scope)
                            .map(|j| full_span(i as u8 * 10 + j + 1))
                            .collect(),
                        schema_url: String::new(),
                    }],
                    schema_url: String::new(),
                })
                .collect(),
        }
    }

    fn take(request: &ExportTraceServiceRequest, cache: &Mutex<OriginCache>) -> Intake {
        let raw = RawExportRequest::decode(&request.encode_to_vec()[..]).unwrap();
        intake(&raw, cache).unwrap()
    }

    #[test]
    fn the_same_resource_and_scope_share_one_origin_across_requests() {
        let cache = Mutex::new(OriginCache::default());
        let one = take(&request(&[("a", "s"), ("a", "s"), ("b", "s")], 2), &cache);
        let two = take(&request(&[("a", "s"), ("a", "t")], 1), &cache);
        let origin = |intake: &Intake, i: usize| intake.spans[i].1.origin.clone();
        // Within a request: two ResourceSpans with the same resource and scope.
        assert!(Arc::ptr_eq(&origin(&one, 0), &origin(&one, 2)));
        // Across requests.
        assert!(Arc::ptr_eq(&origin(&one, 0), &origin(&two, 0)));
        // Another resource, or another scope under the same resource, is another origin.
        assert!(!Arc::ptr_eq(&origin(&one, 0), &origin(&one, 4)));
        assert!(!Arc::ptr_eq(
            &origin(&one, 0).resource,
            &origin(&one, 4).resource
        ));
        assert!(!Arc::ptr_eq(&origin(&two, 0), &origin(&two, 1)));
        assert!(Arc::ptr_eq(
            &origin(&two, 0).resource,
            &origin(&two, 1).resource
        ));
        assert_eq!(origin(&one, 4).resource.service, "b");
        assert_eq!(cache.lock().unwrap().len(), (2, 3));
    }

    #[test]
    fn the_origin_cache_is_bounded_and_forgets_unused_origins() {
        let cache = Mutex::new(OriginCache::default());
        let services: Vec<String> = (0..OriginCache::MAX_ENTRIES + 100)
            .map(|i| format!("service-{i}"))
            .collect();
        // All alive at once: the cache stops growing at its bound.
        let held: Vec<Intake> = services
            .iter()
            .map(|s| take(&request(&[(s, "s")], 1), &cache))
            .collect();
        let (resources, origins) = cache.lock().unwrap().len();
        assert!(resources <= OriginCache::MAX_ENTRIES, "{resources}");
        assert!(origins <= OriginCache::MAX_ENTRIES, "{origins}");
        drop(held);
        // Unused ones are swept: a stream of one-off resources keeps the cache small.
        for s in services.iter().take(1000) {
            drop(take(&request(&[(s, "s")], 1), &cache));
        }
        let (resources, origins) = cache.lock().unwrap().len();
        assert!(resources < 200 && origins < 200, "{resources} {origins}");
    }

    #[test]
    fn sliced_spans_read_as_prost_decodes_them() {
        let cache = Mutex::new(OriginCache::default());
        let request = request(&[("a", "s"), ("b", "t")], 3);
        let intake = take(&request, &cache);
        let spans: Vec<&pb::Span> = request
            .resource_spans
            .iter()
            .flat_map(|rs| rs.scope_spans.iter().flat_map(|ss| ss.spans.iter()))
            .collect();
        assert_eq!(intake.spans.len(), spans.len());
        for ((key, buffered), span) in intake.spans.iter().zip(spans) {
            assert_eq!(&key[..], &span.trace_id[..]);
            assert_eq!(buffered.decode(), *span);
            assert_eq!(buffered.name(), span.name);
            assert_eq!(buffered.trace_state(), span.trace_state);
            assert_eq!(&buffered.parent[..], &span.parent_span_id[..]);
            assert_eq!(buffered.kind, 2);
            assert_eq!(buffered.duration_nanos, 2_500);
            assert!(buffered.is_error);
            assert_eq!(
                buffered.memory_bytes(),
                span.encoded_len() + std::mem::size_of::<BufferedSpan>() + ALLOCATION_OVERHEAD
            );
        }
    }

    /// Damaged requests: refused exactly when prost refuses them, and otherwise read as
    /// prost reads them (whether sliced or taken the slow path).
    #[test]
    fn damaged_requests_are_refused_or_read_as_prost_would() {
        let cache = Mutex::new(OriginCache::default());
        let encoded = request(&[("a", "s"), ("b", "t")], 2).encode_to_vec();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut random = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let (mut refused, mut read) = (0, 0);
        for round in 0..4000 {
            let mut damaged = encoded.clone();
            for _ in 0..1 + round % 3 {
                let at = random() as usize % damaged.len();
                match random() % 3 {
                    0 => damaged[at] = random() as u8,
                    1 => damaged[at] ^= 1 << (random() % 8),
                    _ => damaged.truncate(at.max(1)),
                }
            }
            let expected = ExportTraceServiceRequest::decode(&damaged[..]);
            let got = RawExportRequest::decode(&damaged[..])
                .map_err(|e| e.to_string())
                .and_then(|raw| intake(&raw, &cache));
            match (expected, got) {
                (Err(_), Err(_)) => refused += 1,
                (Ok(expected), Ok(got)) => {
                    read += 1;
                    let valid: Vec<pb::Span> = expected
                        .resource_spans
                        .iter()
                        .flat_map(|rs| rs.scope_spans.iter().flat_map(|ss| ss.spans.iter()))
                        .filter(|s| {
                            id::<16>(&s.trace_id).is_some()
                                && id::<8>(&s.span_id).is_some()
                                && (s.parent_span_id.is_empty() || s.parent_span_id.len() == 8)
                        })
                        .cloned()
                        .collect();
                    let decoded: Vec<pb::Span> =
                        got.spans.iter().map(|(_, s)| s.decode()).collect();
                    assert_eq!(decoded, valid, "round {round}");
                    for ((_, buffered), span) in got.spans.iter().zip(&valid) {
                        assert_eq!(buffered.name(), span.name, "round {round}");
                        assert_eq!(
                            buffered.is_error,
                            span.status.as_ref().is_some_and(|s| s.code == 2)
                        );
                        assert_eq!(buffered.kind, span.kind);
                    }
                }
                (expected, got) => panic!(
                    "round {round}: prost {:?}, intake {:?}",
                    expected.map(|_| ()),
                    got.map(|_| ())
                ),
            }
        }
        assert!(
            refused > 100 && read > 100,
            "{refused} refused, {read} read"
        );
    }

    #[test]
    fn attributes_are_read_from_the_encoding() {
        let span = pb::Span {
            name: "GET /".into(),
            attributes: vec![
                kv("http.method", Value::StringValue("GET".into())),
                kv("retry", Value::BoolValue(true)),
                kv("status", Value::IntValue(-503)),
                kv("ratio", Value::DoubleValue(0.25)),
                kv("http.method", Value::StringValue("POST".into())),
                kv("blob", Value::BytesValue(vec![1])),
            ],
            ..Default::default()
        };
        let encoded = span.encode_to_vec();
        let attributes = EncodedAttributes(&encoded);
        assert_eq!(
            attributes.attribute("http.method"),
            Some(AttributeValue::Str("GET"))
        );
        assert_eq!(
            attributes.attribute("retry"),
            Some(AttributeValue::Bool(true))
        );
        assert_eq!(
            attributes.attribute("status"),
            Some(AttributeValue::Int(-503))
        );
        assert_eq!(
            attributes.attribute("ratio"),
            Some(AttributeValue::Double(0.25))
        );
        assert_eq!(attributes.attribute("blob"), None);
        assert_eq!(attributes.attribute("absent"), None);
        assert_eq!(EncodedAttributes(&[0xff, 0xff]).attribute("x"), None);
    }
}
