//! Zipkin v2 JSON: an array of spans, times in microseconds, ids in hex.
//!
//! Mapping:
//! - `localEndpoint` → resource: `service.name` = `serviceName`, and attributes
//!   `zipkin.localEndpoint.ipv4`, `.ipv6`, `.port` (equal endpoints share a resource);
//! - `remoteEndpoint` → span attributes `zipkin.remoteEndpoint.serviceName`, `.ipv4`,
//!   `.ipv6`, `.port`;
//! - `tags` (a string map, order kept) → string attributes; tag `error` → status
//!   Error with the tag's value as message (`otel.status_code` `ERROR`/`OK` too);
//! - `kind` `CLIENT`/`SERVER`/`PRODUCER`/`CONSUMER` → that kind, absent → Internal;
//! - `annotations` → events (name = `value`); `shared`, `debug` → attributes
//!   `zipkin.shared`, `zipkin.debug` (bool).
//!
//! Zipkin tags are strings: the writer writes other attribute values as text, so
//! [`crate::ADJUSTED_COUNT`] becomes a string tag here.

use crate::document::{ADJUSTED_COUNT, SpanView, TraceDocument};
use crate::error::{ReadError, WriteError};
use crate::format::Format;
use crate::jaeger::any_value_text;
use crate::json_util::{double_text, flex_u64, hex, hex_id, null_default};
use crate::model::{
    AnyValue, Event, KeyValue, Resource, Scope, Span, SpanKind, Status, StatusCode,
};
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::sync::Arc;

const LOCAL_IPV4: &str = "zipkin.localEndpoint.ipv4";
const LOCAL_IPV6: &str = "zipkin.localEndpoint.ipv6";
const LOCAL_PORT: &str = "zipkin.localEndpoint.port";
const REMOTE_SERVICE: &str = "zipkin.remoteEndpoint.serviceName";
const REMOTE_IPV4: &str = "zipkin.remoteEndpoint.ipv4";
const REMOTE_IPV6: &str = "zipkin.remoteEndpoint.ipv6";
const REMOTE_PORT: &str = "zipkin.remoteEndpoint.port";
const SHARED: &str = "zipkin.shared";
const DEBUG: &str = "zipkin.debug";

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireSpan {
    #[serde(rename = "traceId", deserialize_with = "hex_id")]
    trace_id: Vec<u8>,
    #[serde(deserialize_with = "hex_id")]
    id: Vec<u8>,
    #[serde(rename = "parentId", deserialize_with = "hex_id")]
    parent_id: Vec<u8>,
    #[serde(deserialize_with = "null_default")]
    name: String,
    #[serde(deserialize_with = "kind")]
    kind: Option<SpanKind>,
    #[serde(deserialize_with = "flex_u64")]
    timestamp: u64,
    #[serde(deserialize_with = "flex_u64")]
    duration: u64,
    #[serde(rename = "localEndpoint")]
    local_endpoint: Option<Endpoint>,
    #[serde(rename = "remoteEndpoint")]
    remote_endpoint: Option<Endpoint>,
    #[serde(deserialize_with = "null_default")]
    annotations: Vec<Annotation>,
    #[serde(deserialize_with = "null_default")]
    tags: Tags,
    debug: Option<bool>,
    shared: Option<bool>,
}

#[derive(Deserialize, Default, Clone, PartialEq, Eq, Hash)]
#[serde(default)]
struct Endpoint {
    #[serde(rename = "serviceName")]
    service_name: Option<String>,
    ipv4: Option<String>,
    ipv6: Option<String>,
    port: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Annotation {
    #[serde(deserialize_with = "flex_u64")]
    timestamp: u64,
    #[serde(deserialize_with = "null_default")]
    value: String,
}

/// Tags in input order; non-string values are read as their text.
#[derive(Default)]
struct Tags(Vec<(String, String)>);

impl<'de> Deserialize<'de> for Tags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TagsVisitor;
        impl<'de> Visitor<'de> for TagsVisitor {
            type Value = Tags;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of tags")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tags, A::Error> {
                let mut tags = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    let value = match value {
                        Value::String(s) => s,
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    tags.push((key, value));
                }
                Ok(Tags(tags))
            }
        }
        d.deserialize_map(TagsVisitor)
    }
}

pub(crate) fn read(bytes: &[u8], origin: &str) -> Result<TraceDocument, ReadError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let invalid = |e: &serde_json::Error| ReadError::from_json(origin, Format::ZipkinJson, e);
    let wire: Vec<WireSpan> = serde_json::from_slice(bytes).map_err(|e| invalid(&e))?;
    let scope = Arc::new(Scope::default());
    let mut resources: HashMap<Endpoint, Arc<Resource>> = HashMap::new();
    let mut spans = Vec::with_capacity(wire.len());
    for s in wire {
        let kind = s.kind.unwrap_or(SpanKind::Internal);
        let endpoint = s.local_endpoint.unwrap_or_default();
        let resource = resources
            .entry(endpoint.clone())
            .or_insert_with(|| {
                let mut attributes = Vec::new();
                if let Some(service) = &endpoint.service_name {
                    attributes.push(KeyValue::string("service.name", service.clone()));
                }
                push_endpoint(
                    &mut attributes,
                    &endpoint,
                    [LOCAL_IPV4, LOCAL_IPV6, LOCAL_PORT],
                );
                Arc::new(Resource {
                    attributes,
                    ..Resource::default()
                })
            })
            .clone();
        let mut status = Status::default();
        for (key, value) in &s.tags.0 {
            match key.as_str() {
                "error" => {
                    status.code = StatusCode::Error;
                    status.message = value.clone();
                }
                "otel.status_code" if status.code != StatusCode::Error => {
                    if value.eq_ignore_ascii_case("ERROR") {
                        status.code = StatusCode::Error;
                    } else if value.eq_ignore_ascii_case("OK") {
                        status.code = StatusCode::Ok;
                    }
                }
                _ => {}
            }
        }
        let mut attributes: Vec<KeyValue> = s
            .tags
            .0
            .into_iter()
            .map(|(key, value)| KeyValue::string(key, value))
            .collect();
        if let Some(remote) = &s.remote_endpoint {
            if let Some(service) = &remote.service_name {
                attributes.push(KeyValue::string(REMOTE_SERVICE, service.clone()));
            }
            push_endpoint(
                &mut attributes,
                remote,
                [REMOTE_IPV4, REMOTE_IPV6, REMOTE_PORT],
            );
        }
        for (key, flag) in [(SHARED, s.shared), (DEBUG, s.debug)] {
            if let Some(flag) = flag {
                attributes.push(KeyValue {
                    key: key.to_string(),
                    value: AnyValue::Bool(flag),
                });
            }
        }
        let start = s.timestamp.saturating_mul(1000);
        spans.push(Span {
            trace_id: s.trace_id,
            span_id: s.id,
            parent_span_id: s.parent_id,
            trace_state: String::new(),
            name: s.name,
            kind,
            start_time_unix_nano: start,
            end_time_unix_nano: start.saturating_add(s.duration.saturating_mul(1000)),
            attributes,
            dropped_attributes_count: 0,
            events: s
                .annotations
                .into_iter()
                .map(|a| Event {
                    time_unix_nano: a.timestamp.saturating_mul(1000),
                    name: a.value,
                    ..Event::default()
                })
                .collect(),
            dropped_events_count: 0,
            links: Vec::new(),
            dropped_links_count: 0,
            status,
            flags: 0,
            resource,
            scope: scope.clone(),
        });
    }
    Ok(TraceDocument::new(Format::ZipkinJson, origin, spans))
}

/// A Zipkin kind (any case); `null` or absent is a local span.
fn kind<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SpanKind>, D::Error> {
    let text: Option<std::borrow::Cow<'de, str>> = Option::deserialize(d)?;
    let Some(text) = text else { return Ok(None) };
    match text.to_ascii_uppercase().as_str() {
        "CLIENT" => Ok(Some(SpanKind::Client)),
        "SERVER" => Ok(Some(SpanKind::Server)),
        "PRODUCER" => Ok(Some(SpanKind::Producer)),
        "CONSUMER" => Ok(Some(SpanKind::Consumer)),
        _ => Err(serde::de::Error::custom(format!(
            "unknown span kind {text:?}; expected CLIENT, SERVER, PRODUCER or CONSUMER"
        ))),
    }
}

fn push_endpoint(attributes: &mut Vec<KeyValue>, endpoint: &Endpoint, keys: [&str; 3]) {
    if let Some(ipv4) = &endpoint.ipv4 {
        attributes.push(KeyValue::string(keys[0], ipv4.clone()));
    }
    if let Some(ipv6) = &endpoint.ipv6 {
        attributes.push(KeyValue::string(keys[1], ipv6.clone()));
    }
    if let Some(port) = endpoint.port {
        attributes.push(KeyValue {
            key: keys[2].to_string(),
            value: AnyValue::Int(port),
        });
    }
}

fn tag_text(value: &AnyValue) -> String {
    match value {
        AnyValue::Empty => String::new(),
        AnyValue::Double(d) => double_text(*d),
        other => any_value_text(other),
    }
}

/// The endpoint object from attributes `keys` (service, ipv4, ipv6, port), if any.
fn endpoint_json(attributes: &[KeyValue], keys: [&str; 4]) -> Option<Value> {
    let mut endpoint = Map::new();
    for kv in attributes {
        let Some(i) = keys.iter().position(|k| *k == kv.key) else {
            continue;
        };
        let name = ["serviceName", "ipv4", "ipv6", "port"][i];
        let value = match (&kv.value, i) {
            (AnyValue::Int(port), 3) => Value::from(*port),
            (other, _) => Value::from(tag_text(other)),
        };
        endpoint.insert(name.to_string(), value);
    }
    (!endpoint.is_empty()).then_some(Value::Object(endpoint))
}

pub(crate) fn write(spans: &[SpanView<'_>], out: &mut dyn Write) -> Result<(), WriteError> {
    let reserved = [
        LOCAL_IPV4,
        LOCAL_IPV6,
        LOCAL_PORT,
        REMOTE_SERVICE,
        REMOTE_IPV4,
        REMOTE_IPV6,
        REMOTE_PORT,
        SHARED,
        DEBUG,
    ];
    let values: Vec<Value> = spans
        .iter()
        .map(|view| {
            let span = view.span;
            let mut object = Map::new();
            object.insert("traceId".into(), hex(&span.trace_id).into());
            object.insert("id".into(), hex(&span.span_id).into());
            if !view.parent.is_empty() {
                object.insert("parentId".into(), hex(view.parent).into());
            }
            let kind = match span.kind {
                SpanKind::Client => Some("CLIENT"),
                SpanKind::Server => Some("SERVER"),
                SpanKind::Producer => Some("PRODUCER"),
                SpanKind::Consumer => Some("CONSUMER"),
                SpanKind::Internal | SpanKind::Unspecified => None,
            };
            if let Some(kind) = kind {
                object.insert("kind".into(), kind.into());
            }
            if !span.name.is_empty() {
                object.insert("name".into(), span.name.clone().into());
            }
            if span.start_time_unix_nano != 0 {
                object.insert("timestamp".into(), (span.start_time_unix_nano / 1000).into());
            }
            if span.duration_nanos() != 0 {
                object.insert("duration".into(), (span.duration_nanos() / 1000).into());
            }
            if let Some(local) = endpoint_json(
                &span.resource.attributes,
                ["service.name", LOCAL_IPV4, LOCAL_IPV6, LOCAL_PORT],
            ) {
                object.insert("localEndpoint".into(), local);
            }
            if let Some(remote) = endpoint_json(
                &span.attributes,
                [REMOTE_SERVICE, REMOTE_IPV4, REMOTE_IPV6, REMOTE_PORT],
            ) {
                object.insert("remoteEndpoint".into(), remote);
            }
            if !span.events.is_empty() {
                let annotations: Vec<Value> = span
                    .events
                    .iter()
                    .map(|e| serde_json::json!({"timestamp": e.time_unix_nano / 1000, "value": e.name}))
                    .collect();
                object.insert("annotations".into(), annotations.into());
            }
            let mut tags = Map::new();
            for kv in &span.attributes {
                if reserved.contains(&kv.key.as_str()) {
                    continue;
                }
                tags.insert(kv.key.clone(), tag_text(&kv.value).into());
            }
            if let Some(count) = view.adjusted_count {
                tags.insert(ADJUSTED_COUNT.to_string(), double_text(count).into());
            }
            if !tags.is_empty() {
                object.insert("tags".into(), tags.into());
            }
            for (key, name) in [(DEBUG, "debug"), (SHARED, "shared")] {
                if let Some(AnyValue::Bool(flag)) =
                    span.attributes.iter().find(|kv| kv.key == key).map(|kv| &kv.value)
                {
                    object.insert(name.into(), (*flag).into());
                }
            }
            Value::Object(object)
        })
        .collect();
    serde_json::to_writer(&mut *out, &values)?;
    out.write_all(b"\n")?;
    Ok(())
}
