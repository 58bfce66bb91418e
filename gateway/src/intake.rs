//! From an `ExportTraceServiceRequest` to the spans the assembler buffers.
//!
//! A buffered span keeps its own protobuf encoding (re-encoded from the decoded
//! request, so it pins no request buffer) and only what the sampler reads, decoded:
//! ids, name, times, status and its resource and scope (shared by the spans of one
//! `ScopeSpans`). That is about a third of the memory of the decoded span with its
//! attribute strings. Kept spans are decoded again for forwarding.
//!
//! Spans with invalid ids (a trace id other than 16 bytes or all zero, a span id other
//! than 8 bytes or all zero, a parent id neither empty nor 8 bytes) are rejected one by
//! one and reported in the response's partial success (OTLP: "the server MUST
//! … set the rejected_spans field"), the rest of the request is accepted.

use crate::convert;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1 as pb;
use prost::Message;
use std::sync::Arc;
use trace_formats::model;

/// A 16-byte OTLP trace id: the assembler's key.
pub type TraceKey = [u8; 16];

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
    /// Name.
    pub name: Box<str>,
    /// W3C trace state (usually empty).
    pub trace_state: Box<str>,
    /// OTLP span kind number.
    pub kind: i32,
    /// Start, Unix ns.
    pub start_unix_nano: u64,
    /// Duration, ns.
    pub duration_nanos: u64,
    /// Status is error.
    pub is_error: bool,
}

impl BufferedSpan {
    /// Whether the span has no parent.
    pub fn is_root(&self) -> bool {
        self.parent == [0; 8]
    }

    /// Bytes this span holds in memory, as counted against `--max-memory`: the encoding,
    /// the name, the struct, and the allocator's overhead on two allocations.
    pub fn memory_bytes(&self) -> usize {
        self.encoded.len()
            + self.name.len()
            + self.trace_state.len()
            + std::mem::size_of::<Self>()
            + 32
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

    /// The span decoded again.
    pub fn decode(&self) -> pb::Span {
        // The bytes were encoded by prost from a valid span; decoding cannot fail.
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

/// Takes a decoded request apart into buffered spans.
pub fn intake(request: ExportTraceServiceRequest) -> Intake {
    let mut out = Intake::default();
    for resource_spans in request.resource_spans {
        let proto = resource_spans.resource.unwrap_or_default();
        let resource = Arc::new(ResourceOrigin {
            service: service_of(&proto),
            model: Arc::new(convert::resource_from_proto(
                Some(&proto),
                &resource_spans.schema_url,
            )),
            proto,
            schema_url: resource_spans.schema_url,
        });
        for scope_spans in resource_spans.scope_spans {
            let origin = Arc::new(Origin {
                resource: resource.clone(),
                model_scope: Arc::new(convert::scope_from_proto(
                    scope_spans.scope.as_ref(),
                    &scope_spans.schema_url,
                )),
                scope: scope_spans.scope,
                schema_url: scope_spans.schema_url,
            });
            for span in scope_spans.spans {
                let trace_id = id::<16>(&span.trace_id);
                let span_id = id::<8>(&span.span_id);
                let parent = if span.parent_span_id.is_empty() {
                    Some([0; 8])
                } else {
                    span.parent_span_id.as_slice().try_into().ok()
                };
                let (Some(trace_id), Some(span_id), Some(parent)) = (trace_id, span_id, parent)
                else {
                    out.rejected += 1;
                    if out.first_error.is_none() {
                        out.first_error = Some(format!(
                            "span {:?}: invalid ids (trace id {} bytes, span id {} bytes, \
                             parent id {} bytes; OTLP needs 16, 8 and 0 or 8, not all zero)",
                            span.name,
                            span.trace_id.len(),
                            span.span_id.len(),
                            span.parent_span_id.len()
                        ));
                    }
                    continue;
                };
                let buffered = BufferedSpan {
                    encoded: span.encode_to_vec().into_boxed_slice(),
                    origin: origin.clone(),
                    span_id,
                    parent,
                    name: span.name.into_boxed_str(),
                    trace_state: span.trace_state.into_boxed_str(),
                    kind: span.kind,
                    start_unix_nano: span.start_time_unix_nano,
                    duration_nanos: span
                        .end_time_unix_nano
                        .saturating_sub(span.start_time_unix_nano),
                    is_error: span.status.is_some_and(|s| s.code == 2),
                };
                out.bytes += buffered.memory_bytes();
                out.spans.push((trace_id, buffered));
            }
        }
    }
    out
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

fn varint(buf: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = buf.split_first()?;
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
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
    use runtime_sampler::{AttributeValue, SpanAttributes};

    #[test]
    fn attributes_are_read_from_the_encoding() {
        let kv = |key: &str, value: Value| KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(value) }),
            key_strindex: 0,
        };
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
