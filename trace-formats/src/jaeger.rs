//! Jaeger JSON as the query API and the UI export it: `{"data": [{"traceID", "spans",
//! "processes"}]}`, times in microseconds, ids in hex.
//!
//! Mapping (chosen so that writing Jaeger JSON back loses nothing that matters):
//! - each process → a resource: `service.name` = `serviceName`, then the process tags
//!   (equal processes share one resource across traces); a span's embedded `process`
//!   is used when its `processID` is not in `processes`;
//! - tags → attributes, keeping their type: `string`, `bool`, `int64`, `float64`,
//!   `binary` (base64) map to the `AnyValue` of that type;
//! - kind from the `span.kind` tag; status Error when tag `error` is true or
//!   `otel.status_code` is `ERROR` (Ok when it is `OK`), message from
//!   `otel.status_description`; the tags themselves stay as attributes;
//! - the first `CHILD_OF` reference in the same trace is the parent (else the first
//!   `FOLLOWS_FROM` one, noted in attribute [`PARENT_REF_TYPE`]); every other reference
//!   becomes a link with attribute `opentracing.ref_type` (`child_of`/`follows_from`);
//!   whole span objects embedded in `references[].span` are skipped, however deep;
//! - logs → events (name = the `event` field, all fields kept as attributes);
//! - span `warnings` → attribute [`WARNINGS`] (array of strings); `flags` → flags.
//!
//! Processes are renumbered `p1`, `p2`, … per trace on output.

use crate::document::{ADJUSTED_COUNT, SpanView, TraceDocument};
use crate::error::{ReadError, WriteError};
use crate::format::Format;
use crate::json_util::{
    base64_decode, base64_encode, double_text, flex_u32, flex_u64, hex, hex_id, null_default,
};
use crate::model::{
    AnyValue, Event, KeyValue, Link, Resource, Scope, Span, SpanKind, Status, StatusCode,
};
use crate::otlp::Grouper;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::sync::Arc;

/// Span attribute set when the parent reference was `FOLLOWS_FROM` (value
/// `FOLLOWS_FROM`); not written as a tag.
pub const PARENT_REF_TYPE: &str = "jaeger.parent_ref_type";
/// Span attribute holding Jaeger's span `warnings`; not written as a tag.
pub const WARNINGS: &str = "jaeger.warnings";
/// Link attribute holding the reference type, lowercase (OpenTelemetry's convention).
pub const REF_TYPE: &str = "opentracing.ref_type";

#[derive(Deserialize, Default)]
#[serde(default)]
struct Root {
    #[serde(deserialize_with = "null_default")]
    data: Vec<WireTrace>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireTrace {
    #[serde(deserialize_with = "null_default")]
    spans: Vec<WireSpan>,
    #[serde(deserialize_with = "null_default")]
    processes: HashMap<String, WireProcess>,
}

#[derive(Deserialize, Default, Clone, PartialEq)]
#[serde(default)]
struct WireProcess {
    #[serde(rename = "serviceName", deserialize_with = "null_default")]
    service_name: String,
    #[serde(deserialize_with = "null_default")]
    tags: Vec<Tag>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireSpan {
    #[serde(rename = "traceID", deserialize_with = "hex_id")]
    trace_id: Vec<u8>,
    #[serde(rename = "spanID", deserialize_with = "hex_id")]
    span_id: Vec<u8>,
    #[serde(deserialize_with = "flex_u32")]
    flags: u32,
    #[serde(rename = "operationName", deserialize_with = "null_default")]
    operation_name: String,
    #[serde(deserialize_with = "null_default")]
    references: Vec<WireReference>,
    #[serde(rename = "startTime", deserialize_with = "flex_u64")]
    start_time: u64,
    #[serde(deserialize_with = "flex_u64")]
    duration: u64,
    #[serde(deserialize_with = "null_default")]
    tags: Vec<Tag>,
    #[serde(deserialize_with = "null_default")]
    logs: Vec<WireLog>,
    #[serde(rename = "processID", deserialize_with = "null_default")]
    process_id: String,
    process: Option<WireProcess>,
    #[serde(deserialize_with = "null_default")]
    warnings: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireReference {
    #[serde(rename = "refType", deserialize_with = "null_default")]
    ref_type: String,
    #[serde(rename = "traceID", deserialize_with = "hex_id")]
    trace_id: Vec<u8>,
    #[serde(rename = "spanID", deserialize_with = "hex_id")]
    span_id: Vec<u8>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireLog {
    #[serde(deserialize_with = "flex_u64")]
    timestamp: u64,
    #[serde(deserialize_with = "null_default")]
    fields: Vec<Tag>,
}

/// A tag, already typed.
#[derive(Default, Clone, PartialEq)]
struct Tag(KeyValue);

/// A tag's `value` before its `type` is applied.
enum RawValue {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Other,
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RawVisitor;
        impl<'de> Visitor<'de> for RawVisitor {
            type Value = RawValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a tag value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<RawValue, E> {
                Ok(RawValue::Null)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawValue, E> {
                Ok(RawValue::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawValue, E> {
                Ok(RawValue::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawValue, E> {
                Ok(RawValue::UInt(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawValue, E> {
                Ok(RawValue::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawValue, E> {
                Ok(RawValue::Str(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<RawValue, E> {
                Ok(RawValue::Str(v))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(RawValue::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawValue, A::Error> {
                while map
                    .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(RawValue::Other)
            }
        }
        d.deserialize_any(RawVisitor)
    }
}

impl<'de> Deserialize<'de> for Tag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TagVisitor;
        impl<'de> Visitor<'de> for TagVisitor {
            type Value = Tag;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a tag {key, type, value}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tag, A::Error> {
                let mut key = String::new();
                let mut kind: Option<String> = None;
                let mut value = RawValue::Null;
                while let Some(name) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match name.as_ref() {
                        "key" => key = map.next_value::<Option<String>>()?.unwrap_or_default(),
                        "type" => kind = map.next_value()?,
                        "value" => value = map.next_value()?,
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(Tag(KeyValue {
                    key,
                    value: typed(kind.as_deref(), value),
                }))
            }
        }
        d.deserialize_map(TagVisitor)
    }
}

fn raw_text(value: RawValue) -> String {
    match value {
        RawValue::Null | RawValue::Other => String::new(),
        RawValue::Bool(b) => b.to_string(),
        RawValue::Int(i) => i.to_string(),
        RawValue::UInt(u) => u.to_string(),
        RawValue::Float(f) => double_text(f),
        RawValue::Str(s) => s,
    }
}

/// Applies a tag's declared type to its value; a value that does not fit its type is
/// kept in the closest form rather than rejected.
fn typed(kind: Option<&str>, value: RawValue) -> AnyValue {
    let kind = kind.map(str::to_ascii_lowercase);
    match (kind.as_deref(), value) {
        (Some("string"), value) => AnyValue::String(raw_text(value)),
        (Some("bool"), RawValue::Str(s)) if s.eq_ignore_ascii_case("true") => AnyValue::Bool(true),
        (Some("bool"), RawValue::Str(s)) if s.eq_ignore_ascii_case("false") => {
            AnyValue::Bool(false)
        }
        (Some("int64"), RawValue::UInt(u)) if i64::try_from(u).is_ok() => AnyValue::Int(u as i64),
        (Some("int64"), RawValue::Str(s)) if s.parse::<i64>().is_ok() => {
            AnyValue::Int(s.parse().unwrap_or_default())
        }
        (Some("float64"), RawValue::Int(i)) => AnyValue::Double(i as f64),
        (Some("float64"), RawValue::UInt(u)) => AnyValue::Double(u as f64),
        (Some("float64"), RawValue::Str(s)) if s.parse::<f64>().is_ok() => {
            AnyValue::Double(s.parse().unwrap_or_default())
        }
        (Some("binary"), RawValue::Str(s)) => match base64_decode(&s) {
            Some(bytes) => AnyValue::Bytes(bytes),
            None => AnyValue::String(s),
        },
        (_, RawValue::Null | RawValue::Other) => AnyValue::Empty,
        (_, RawValue::Bool(b)) => AnyValue::Bool(b),
        (_, RawValue::Int(i)) => AnyValue::Int(i),
        (_, RawValue::UInt(u)) => match i64::try_from(u) {
            Ok(i) => AnyValue::Int(i),
            Err(_) => AnyValue::Double(u as f64),
        },
        (_, RawValue::Float(f)) => AnyValue::Double(f),
        (_, RawValue::Str(s)) => AnyValue::String(s),
    }
}

pub(crate) fn read(bytes: &[u8], origin: &str) -> Result<TraceDocument, ReadError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let root: Root = serde_json::from_slice(bytes)
        .map_err(|e| ReadError::from_json(origin, Format::JaegerJson, &e))?;
    let scope = Arc::new(Scope::default());
    let mut resources: HashMap<String, Vec<(WireProcess, Arc<Resource>)>> = HashMap::new();
    let mut resource_of = |process: &WireProcess| -> Arc<Resource> {
        let same_service = resources.entry(process.service_name.clone()).or_default();
        if let Some((_, resource)) = same_service.iter().find(|(p, _)| p == process) {
            return resource.clone();
        }
        let mut attributes = vec![KeyValue::string(
            "service.name",
            process.service_name.clone(),
        )];
        attributes.extend(process.tags.iter().map(|t| t.0.clone()));
        let resource = Arc::new(Resource {
            attributes,
            ..Resource::default()
        });
        same_service.push((process.clone(), resource.clone()));
        resource
    };
    let missing = Arc::new(Resource::default());
    let mut spans = Vec::new();
    for trace in root.data {
        let processes: HashMap<&str, Arc<Resource>> = trace
            .processes
            .iter()
            .map(|(id, process)| (id.as_str(), resource_of(process)))
            .collect();
        for wire in &trace.spans {
            let resource = match (processes.get(wire.process_id.as_str()), &wire.process) {
                (Some(resource), _) => resource.clone(),
                (None, Some(process)) => resource_of(process),
                (None, None) => missing.clone(),
            };
            spans.push(span(wire, resource, &scope));
        }
    }
    Ok(TraceDocument::new(Format::JaegerJson, origin, spans))
}

fn span(wire: &WireSpan, resource: Arc<Resource>, scope: &Arc<Scope>) -> Span {
    let mut attributes: Vec<KeyValue> = wire.tags.iter().map(|t| t.0.clone()).collect();
    let tag = |key: &str| {
        attributes
            .iter()
            .find(|kv| kv.key == key)
            .map(|kv| &kv.value)
    };
    let kind = match tag("span.kind") {
        Some(AnyValue::String(s)) => match s.to_ascii_lowercase().as_str() {
            "server" => SpanKind::Server,
            "client" => SpanKind::Client,
            "producer" => SpanKind::Producer,
            "consumer" => SpanKind::Consumer,
            "internal" => SpanKind::Internal,
            _ => SpanKind::Unspecified,
        },
        _ => SpanKind::Unspecified,
    };
    let error_tag = matches!(tag("error"), Some(AnyValue::Bool(true)))
        || matches!(tag("error"), Some(AnyValue::String(s)) if s.eq_ignore_ascii_case("true"));
    let code = match tag("otel.status_code") {
        _ if error_tag => StatusCode::Error,
        Some(AnyValue::String(s)) if s.eq_ignore_ascii_case("ERROR") => StatusCode::Error,
        Some(AnyValue::String(s)) if s.eq_ignore_ascii_case("OK") => StatusCode::Ok,
        _ => StatusCode::Unset,
    };
    let message = match tag("otel.status_description") {
        Some(AnyValue::String(s)) => s.clone(),
        _ => String::new(),
    };
    let same_trace: Vec<usize> = (0..wire.references.len())
        .filter(|&i| wire.references[i].trace_id == wire.trace_id)
        .collect();
    let of_type = |ref_type: &str| {
        same_trace
            .iter()
            .copied()
            .find(|&i| wire.references[i].ref_type.eq_ignore_ascii_case(ref_type))
    };
    let parent_index = of_type("CHILD_OF").or_else(|| of_type("FOLLOWS_FROM"));
    let mut parent_span_id = Vec::new();
    let mut links = Vec::new();
    for (i, reference) in wire.references.iter().enumerate() {
        if Some(i) == parent_index {
            parent_span_id = reference.span_id.clone();
            if !reference.ref_type.eq_ignore_ascii_case("CHILD_OF") {
                attributes.push(KeyValue::string(PARENT_REF_TYPE, "FOLLOWS_FROM"));
            }
        } else {
            links.push(Link {
                trace_id: reference.trace_id.clone(),
                span_id: reference.span_id.clone(),
                attributes: vec![KeyValue::string(
                    REF_TYPE,
                    reference.ref_type.to_ascii_lowercase(),
                )],
                ..Link::default()
            });
        }
    }
    if !wire.warnings.is_empty() {
        let warnings = wire
            .warnings
            .iter()
            .map(|w| AnyValue::String(w.clone()))
            .collect();
        attributes.push(KeyValue {
            key: WARNINGS.to_string(),
            value: AnyValue::Array(warnings),
        });
    }
    let events = wire
        .logs
        .iter()
        .map(|log| {
            let attributes: Vec<KeyValue> = log.fields.iter().map(|t| t.0.clone()).collect();
            let name = attributes
                .iter()
                .find(|kv| kv.key == "event")
                .and_then(|kv| match &kv.value {
                    AnyValue::String(s) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            Event {
                time_unix_nano: log.timestamp.saturating_mul(1000),
                name,
                attributes,
                dropped_attributes_count: 0,
            }
        })
        .collect();
    let start = wire.start_time.saturating_mul(1000);
    Span {
        trace_id: wire.trace_id.clone(),
        span_id: wire.span_id.clone(),
        parent_span_id,
        trace_state: String::new(),
        name: wire.operation_name.clone(),
        kind,
        start_time_unix_nano: start,
        end_time_unix_nano: start.saturating_add(wire.duration.saturating_mul(1000)),
        attributes,
        dropped_attributes_count: 0,
        events,
        dropped_events_count: 0,
        links,
        dropped_links_count: 0,
        status: Status { message, code },
        flags: wire.flags,
        resource,
        scope: scope.clone(),
    }
}

// ---------------------------------------------------------------- writing

/// A JSON value for an attribute value, with its Jaeger type.
pub(crate) fn tag_json(key: &str, value: &AnyValue) -> Value {
    let (kind, value) = match value {
        AnyValue::Empty => ("string", Value::from("")),
        AnyValue::String(s) => ("string", Value::from(s.as_str())),
        AnyValue::Bool(b) => ("bool", Value::from(*b)),
        AnyValue::Int(i) => ("int64", Value::from(*i)),
        AnyValue::Double(d) => (
            "float64",
            serde_json::Number::from_f64(*d)
                .map_or_else(|| Value::from(double_text(*d)), Value::Number),
        ),
        AnyValue::Bytes(b) => ("binary", Value::from(base64_encode(b))),
        AnyValue::Array(_) | AnyValue::KvList(_) => ("string", Value::from(any_value_text(value))),
    };
    json!({"key": key, "type": kind, "value": value})
}

/// A compact JSON rendering of a structured value (for formats whose values are flat).
pub(crate) fn any_value_text(value: &AnyValue) -> String {
    fn to_json(value: &AnyValue) -> Value {
        match value {
            AnyValue::Empty => Value::Null,
            AnyValue::String(s) => Value::from(s.as_str()),
            AnyValue::Bool(b) => Value::from(*b),
            AnyValue::Int(i) => Value::from(*i),
            AnyValue::Double(d) => serde_json::Number::from_f64(*d)
                .map_or_else(|| Value::from(double_text(*d)), Value::Number),
            AnyValue::Bytes(b) => Value::from(base64_encode(b)),
            AnyValue::Array(values) => Value::Array(values.iter().map(to_json).collect()),
            AnyValue::KvList(values) => Value::Object(
                values
                    .iter()
                    .map(|kv| (kv.key.clone(), to_json(&kv.value)))
                    .collect(),
            ),
        }
    }
    match value {
        AnyValue::String(s) => s.clone(),
        other => to_json(other).to_string(),
    }
}

pub(crate) fn write(spans: &[SpanView<'_>], out: &mut dyn Write) -> Result<(), WriteError> {
    // Traces in first-seen order, spans in input order within each.
    let mut trace_index: HashMap<&[u8], usize> = HashMap::new();
    let mut traces: Vec<Vec<&SpanView<'_>>> = Vec::new();
    for view in spans {
        let index = *trace_index.entry(&view.span.trace_id).or_insert_with(|| {
            traces.push(Vec::new());
            traces.len() - 1
        });
        traces[index].push(view);
    }
    let data: Vec<Value> = traces.iter().map(|trace| trace_json(trace)).collect();
    serde_json::to_writer(&mut *out, &json!({ "data": data }))?;
    out.write_all(b"\n")?;
    Ok(())
}

fn trace_json(trace: &[&SpanView<'_>]) -> Value {
    let mut processes: Grouper<'_, Resource> = Grouper::new();
    let mut process_values = Map::new();
    let mut spans = Vec::with_capacity(trace.len());
    for view in trace {
        let span = view.span;
        let (index, new) = processes.index(&span.resource, span.resource.service_name());
        let process_id = format!("p{}", index + 1);
        if new {
            let tags: Vec<Value> = span
                .resource
                .attributes
                .iter()
                .filter(|kv| kv.key != "service.name")
                .map(|kv| tag_json(&kv.key, &kv.value))
                .collect();
            process_values.insert(
                process_id.clone(),
                json!({"serviceName": span.resource.service_name(), "tags": tags}),
            );
        }
        spans.push(span_json(view, process_id));
    }
    json!({
        "traceID": hex(&trace[0].span.trace_id),
        "spans": spans,
        "processes": process_values,
        "warnings": null,
    })
}

fn span_json(view: &SpanView<'_>, process_id: String) -> Value {
    let span = view.span;
    let attribute = |key: &str| {
        span.attributes
            .iter()
            .find(|kv| kv.key == key)
            .map(|kv| &kv.value)
    };
    let mut references = Vec::new();
    if !view.parent.is_empty() {
        let ref_type = match attribute(PARENT_REF_TYPE) {
            Some(AnyValue::String(s)) => s.to_ascii_uppercase(),
            _ => "CHILD_OF".to_string(),
        };
        references.push(json!({
            "refType": ref_type,
            "traceID": hex(&span.trace_id),
            "spanID": hex(view.parent),
        }));
    }
    for link in &span.links {
        let ref_type = link
            .attributes
            .iter()
            .find(|kv| kv.key == REF_TYPE)
            .and_then(|kv| match &kv.value {
                AnyValue::String(s) => Some(s.to_ascii_uppercase()),
                _ => None,
            })
            .unwrap_or_else(|| "FOLLOWS_FROM".to_string());
        references.push(json!({
            "refType": ref_type,
            "traceID": hex(&link.trace_id),
            "spanID": hex(&link.span_id),
        }));
    }
    let mut tags: Vec<Value> = span
        .attributes
        .iter()
        .filter(|kv| kv.key != PARENT_REF_TYPE && kv.key != WARNINGS)
        .filter(|kv| view.adjusted_count.is_none() || kv.key != ADJUSTED_COUNT)
        .map(|kv| tag_json(&kv.key, &kv.value))
        .collect();
    if let Some(count) = view.adjusted_count {
        tags.push(tag_json(ADJUSTED_COUNT, &AnyValue::Double(count)));
    }
    let logs: Vec<Value> = span
        .events
        .iter()
        .map(|event| {
            let mut fields = Vec::new();
            if !event.name.is_empty() && !event.attributes.iter().any(|kv| kv.key == "event") {
                fields.push(tag_json("event", &AnyValue::String(event.name.clone())));
            }
            fields.extend(
                event
                    .attributes
                    .iter()
                    .map(|kv| tag_json(&kv.key, &kv.value)),
            );
            json!({"timestamp": event.time_unix_nano / 1000, "fields": fields})
        })
        .collect();
    let warnings = match attribute(WARNINGS) {
        Some(AnyValue::Array(values)) => Value::Array(
            values
                .iter()
                .map(|v| Value::from(any_value_text(v)))
                .collect(),
        ),
        _ => Value::Null,
    };
    json!({
        "traceID": hex(&span.trace_id),
        "spanID": hex(&span.span_id),
        "flags": span.flags,
        "operationName": span.name,
        "references": references,
        "startTime": span.start_time_unix_nano / 1000,
        "duration": span.duration_nanos() / 1000,
        "tags": tags,
        "logs": logs,
        "processID": process_id,
        "warnings": warnings,
    })
}
