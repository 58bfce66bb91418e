//! OTLP/JSON (`ExportTraceServiceRequest`), as the OTLP specification's JSON encoding
//! says: lowerCamelCase keys (snake_case accepted too), trace and span ids as hex
//! (either case on input), 64-bit integers as decimal strings (numbers accepted),
//! enums as integers (names such as `SPAN_KIND_SERVER` accepted), bytes as base64,
//! non-finite doubles as `"NaN"`, `"Infinity"`, `"-Infinity"`. Unknown keys are
//! ignored, `null` reads as the default, and a file may hold several requests (one per
//! line, as the Collector's file exporter writes). The old `instrumentationLibrarySpans`
//! / `instrumentationLibrary` keys are read as `scopeSpans` / `scope`.

use crate::document::{ADJUSTED_COUNT, SpanView, TraceDocument};
use crate::error::{ReadError, WriteError};
use crate::format::Format;
use crate::json_util::{
    base64_decode, base64_encode, double_text, flex_i64, flex_u32, flex_u64, for_each_value, hex,
    hex_id, null_default,
};
use crate::model::{
    AnyValue, Event, KeyValue, Link, Resource, Scope, Span, SpanKind, Status, StatusCode,
};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::sync::Arc;

// ---------------------------------------------------------------- reading

#[derive(Deserialize, Default)]
#[serde(default)]
struct Request {
    #[serde(
        rename = "resourceSpans",
        alias = "resource_spans",
        deserialize_with = "null_default"
    )]
    resource_spans: Vec<ResourceSpans>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResourceSpans {
    #[serde(deserialize_with = "null_default")]
    resource: WireResource,
    #[serde(
        rename = "scopeSpans",
        alias = "scope_spans",
        alias = "instrumentationLibrarySpans",
        alias = "instrumentation_library_spans",
        deserialize_with = "null_default"
    )]
    scope_spans: Vec<ScopeSpans>,
    #[serde(
        rename = "schemaUrl",
        alias = "schema_url",
        deserialize_with = "null_default"
    )]
    schema_url: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireResource {
    #[serde(deserialize_with = "null_default")]
    attributes: Vec<WireKeyValue>,
    #[serde(
        rename = "droppedAttributesCount",
        alias = "dropped_attributes_count",
        deserialize_with = "flex_u32"
    )]
    dropped_attributes_count: u32,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ScopeSpans {
    #[serde(
        alias = "instrumentationLibrary",
        alias = "instrumentation_library",
        deserialize_with = "null_default"
    )]
    scope: WireScope,
    #[serde(deserialize_with = "null_default")]
    spans: Vec<WireSpan>,
    #[serde(
        rename = "schemaUrl",
        alias = "schema_url",
        deserialize_with = "null_default"
    )]
    schema_url: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireScope {
    #[serde(deserialize_with = "null_default")]
    name: String,
    #[serde(deserialize_with = "null_default")]
    version: String,
    #[serde(deserialize_with = "null_default")]
    attributes: Vec<WireKeyValue>,
    #[serde(
        rename = "droppedAttributesCount",
        alias = "dropped_attributes_count",
        deserialize_with = "flex_u32"
    )]
    dropped_attributes_count: u32,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireSpan {
    #[serde(rename = "traceId", alias = "trace_id", deserialize_with = "hex_id")]
    trace_id: Vec<u8>,
    #[serde(rename = "spanId", alias = "span_id", deserialize_with = "hex_id")]
    span_id: Vec<u8>,
    #[serde(
        rename = "traceState",
        alias = "trace_state",
        deserialize_with = "null_default"
    )]
    trace_state: String,
    #[serde(
        rename = "parentSpanId",
        alias = "parent_span_id",
        deserialize_with = "hex_id"
    )]
    parent_span_id: Vec<u8>,
    #[serde(deserialize_with = "flex_u32")]
    flags: u32,
    #[serde(deserialize_with = "null_default")]
    name: String,
    #[serde(deserialize_with = "span_kind")]
    kind: SpanKind,
    #[serde(
        rename = "startTimeUnixNano",
        alias = "start_time_unix_nano",
        deserialize_with = "flex_u64"
    )]
    start_time_unix_nano: u64,
    #[serde(
        rename = "endTimeUnixNano",
        alias = "end_time_unix_nano",
        deserialize_with = "flex_u64"
    )]
    end_time_unix_nano: u64,
    #[serde(deserialize_with = "null_default")]
    attributes: Vec<WireKeyValue>,
    #[serde(
        rename = "droppedAttributesCount",
        alias = "dropped_attributes_count",
        deserialize_with = "flex_u32"
    )]
    dropped_attributes_count: u32,
    #[serde(deserialize_with = "null_default")]
    events: Vec<WireEvent>,
    #[serde(
        rename = "droppedEventsCount",
        alias = "dropped_events_count",
        deserialize_with = "flex_u32"
    )]
    dropped_events_count: u32,
    #[serde(deserialize_with = "null_default")]
    links: Vec<WireLink>,
    #[serde(
        rename = "droppedLinksCount",
        alias = "dropped_links_count",
        deserialize_with = "flex_u32"
    )]
    dropped_links_count: u32,
    #[serde(deserialize_with = "null_default")]
    status: WireStatus,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireEvent {
    #[serde(
        rename = "timeUnixNano",
        alias = "time_unix_nano",
        deserialize_with = "flex_u64"
    )]
    time_unix_nano: u64,
    #[serde(deserialize_with = "null_default")]
    name: String,
    #[serde(deserialize_with = "null_default")]
    attributes: Vec<WireKeyValue>,
    #[serde(
        rename = "droppedAttributesCount",
        alias = "dropped_attributes_count",
        deserialize_with = "flex_u32"
    )]
    dropped_attributes_count: u32,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireLink {
    #[serde(rename = "traceId", alias = "trace_id", deserialize_with = "hex_id")]
    trace_id: Vec<u8>,
    #[serde(rename = "spanId", alias = "span_id", deserialize_with = "hex_id")]
    span_id: Vec<u8>,
    #[serde(
        rename = "traceState",
        alias = "trace_state",
        deserialize_with = "null_default"
    )]
    trace_state: String,
    #[serde(deserialize_with = "null_default")]
    attributes: Vec<WireKeyValue>,
    #[serde(
        rename = "droppedAttributesCount",
        alias = "dropped_attributes_count",
        deserialize_with = "flex_u32"
    )]
    dropped_attributes_count: u32,
    #[serde(deserialize_with = "flex_u32")]
    flags: u32,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireStatus {
    #[serde(deserialize_with = "null_default")]
    message: String,
    #[serde(deserialize_with = "status_code")]
    code: StatusCode,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireKeyValue {
    #[serde(deserialize_with = "null_default")]
    key: String,
    value: WireAnyValue,
}

#[derive(Deserialize)]
#[serde(default, bound = "T: Deserialize<'de>")]
struct WireValues<T> {
    #[serde(deserialize_with = "null_default")]
    values: Vec<T>,
}

impl<T> Default for WireValues<T> {
    fn default() -> Self {
        Self { values: Vec::new() }
    }
}

/// An `AnyValue` object: whichever of its keys is present (the last, if several).
#[derive(Default)]
struct WireAnyValue(AnyValue);

struct FlexI64(i64);
impl<'de> Deserialize<'de> for FlexI64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        flex_i64(d).map(FlexI64)
    }
}

struct Double(f64);
impl<'de> Deserialize<'de> for Double {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct DoubleVisitor;
        impl Visitor<'_> for DoubleVisitor {
            type Value = f64;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a double (number, or \"NaN\", \"Infinity\", \"-Infinity\")")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
                Ok(v)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
                Ok(v as f64)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
                Ok(v as f64)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
                match v {
                    "NaN" => Ok(f64::NAN),
                    "Infinity" => Ok(f64::INFINITY),
                    "-Infinity" => Ok(f64::NEG_INFINITY),
                    _ => v
                        .parse()
                        .map_err(|_| E::custom(format!("{v:?} is not a double"))),
                }
            }
            fn visit_unit<E: de::Error>(self) -> Result<f64, E> {
                Ok(0.0)
            }
        }
        d.deserialize_any(DoubleVisitor).map(Double)
    }
}

struct Base64(Vec<u8>);
impl<'de> Deserialize<'de> for Base64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text: Option<std::borrow::Cow<'de, str>> = Option::deserialize(d)?;
        let text = text.unwrap_or_default();
        base64_decode(&text)
            .map(Base64)
            .ok_or_else(|| de::Error::custom("bytesValue is not base64"))
    }
}

impl<'de> Deserialize<'de> for WireAnyValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct AnyValueVisitor;
        impl<'de> Visitor<'de> for AnyValueVisitor {
            type Value = WireAnyValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an AnyValue object")
            }
            fn visit_unit<E: de::Error>(self) -> Result<WireAnyValue, E> {
                Ok(WireAnyValue(AnyValue::Empty))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WireAnyValue, A::Error> {
                let mut value = AnyValue::Empty;
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    value = match key.as_ref() {
                        "stringValue" | "string_value" => AnyValue::String(
                            map.next_value::<Option<String>>()?.unwrap_or_default(),
                        ),
                        "boolValue" | "bool_value" => {
                            AnyValue::Bool(map.next_value::<Option<bool>>()?.unwrap_or_default())
                        }
                        "intValue" | "int_value" => AnyValue::Int(map.next_value::<FlexI64>()?.0),
                        "doubleValue" | "double_value" => {
                            AnyValue::Double(map.next_value::<Double>()?.0)
                        }
                        "bytesValue" | "bytes_value" => {
                            AnyValue::Bytes(map.next_value::<Base64>()?.0)
                        }
                        "arrayValue" | "array_value" => AnyValue::Array(
                            map.next_value::<Option<WireValues<WireAnyValue>>>()?
                                .unwrap_or_default()
                                .values
                                .into_iter()
                                .map(|v| v.0)
                                .collect(),
                        ),
                        "kvlistValue" | "kvlist_value" => AnyValue::KvList(
                            map.next_value::<Option<WireValues<WireKeyValue>>>()?
                                .unwrap_or_default()
                                .values
                                .into_iter()
                                .map(key_value)
                                .collect(),
                        ),
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                            continue;
                        }
                    };
                }
                Ok(WireAnyValue(value))
            }
        }
        d.deserialize_any(AnyValueVisitor)
    }
}

fn span_kind<'de, D: Deserializer<'de>>(d: D) -> Result<SpanKind, D::Error> {
    const NAMES: &[&str] = &[
        "SPAN_KIND_UNSPECIFIED",
        "SPAN_KIND_INTERNAL",
        "SPAN_KIND_SERVER",
        "SPAN_KIND_CLIENT",
        "SPAN_KIND_PRODUCER",
        "SPAN_KIND_CONSUMER",
    ];
    enum_value(d, NAMES, "span kind").map(SpanKind::from_i32)
}

fn status_code<'de, D: Deserializer<'de>>(d: D) -> Result<StatusCode, D::Error> {
    const NAMES: &[&str] = &["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];
    Ok(match enum_value(d, NAMES, "status code")? {
        1 => StatusCode::Ok,
        2 => StatusCode::Error,
        _ => StatusCode::Unset,
    })
}

/// An enum as its number or its name (`null` meaning 0); unknown numbers pass through.
fn enum_value<'de, D: Deserializer<'de>>(
    d: D,
    names: &'static [&'static str],
    what: &'static str,
) -> Result<i32, D::Error> {
    struct EnumVisitor {
        names: &'static [&'static str],
        what: &'static str,
    }
    impl Visitor<'_> for EnumVisitor {
        type Value = i32;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a {} (integer or name)", self.what)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i32, E> {
            Ok(i32::try_from(v).unwrap_or(-1))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i32, E> {
            Ok(i32::try_from(v).unwrap_or(-1))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<i32, E> {
            match self.names.iter().position(|name| *name == v) {
                Some(i) => Ok(i as i32),
                None => Err(E::custom(format!(
                    "unknown {} {v:?}, expected one of {}",
                    self.what,
                    self.names.join(", ")
                ))),
            }
        }
        fn visit_unit<E: de::Error>(self) -> Result<i32, E> {
            Ok(0)
        }
    }
    d.deserialize_any(EnumVisitor { names, what })
}

fn key_value(kv: WireKeyValue) -> KeyValue {
    KeyValue {
        key: kv.key,
        value: kv.value.0,
    }
}

fn key_values(kvs: Vec<WireKeyValue>) -> Vec<KeyValue> {
    kvs.into_iter().map(key_value).collect()
}

pub(crate) fn read(bytes: &[u8], origin: &str) -> Result<TraceDocument, ReadError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut spans = Vec::new();
    for_each_value(bytes, |request: Request| {
        for resource_spans in request.resource_spans {
            let resource = Arc::new(Resource {
                attributes: key_values(resource_spans.resource.attributes),
                dropped_attributes_count: resource_spans.resource.dropped_attributes_count,
                schema_url: resource_spans.schema_url,
            });
            for scope_spans in resource_spans.scope_spans {
                let wire = scope_spans.scope;
                let scope = Arc::new(Scope {
                    name: wire.name,
                    version: wire.version,
                    attributes: key_values(wire.attributes),
                    dropped_attributes_count: wire.dropped_attributes_count,
                    schema_url: scope_spans.schema_url,
                });
                spans.extend(
                    scope_spans
                        .spans
                        .into_iter()
                        .map(|s| span(s, &resource, &scope)),
                );
            }
        }
    })
    .map_err(|e| ReadError::from_json(origin, Format::OtlpJson, &e))?;
    Ok(TraceDocument::new(Format::OtlpJson, origin, spans))
}

fn span(s: WireSpan, resource: &Arc<Resource>, scope: &Arc<Scope>) -> Span {
    Span {
        trace_id: s.trace_id,
        span_id: s.span_id,
        parent_span_id: s.parent_span_id,
        trace_state: s.trace_state,
        name: s.name,
        kind: s.kind,
        start_time_unix_nano: s.start_time_unix_nano,
        end_time_unix_nano: s.end_time_unix_nano,
        attributes: key_values(s.attributes),
        dropped_attributes_count: s.dropped_attributes_count,
        events: s
            .events
            .into_iter()
            .map(|e| Event {
                time_unix_nano: e.time_unix_nano,
                name: e.name,
                attributes: key_values(e.attributes),
                dropped_attributes_count: e.dropped_attributes_count,
            })
            .collect(),
        dropped_events_count: s.dropped_events_count,
        links: s
            .links
            .into_iter()
            .map(|l| Link {
                trace_id: l.trace_id,
                span_id: l.span_id,
                trace_state: l.trace_state,
                attributes: key_values(l.attributes),
                dropped_attributes_count: l.dropped_attributes_count,
                flags: l.flags,
            })
            .collect(),
        dropped_links_count: s.dropped_links_count,
        status: Status {
            message: s.status.message,
            code: s.status.code,
        },
        flags: s.flags,
        resource: resource.clone(),
        scope: scope.clone(),
    }
}

// ---------------------------------------------------------------- writing

/// Writes spans as one `ExportTraceServiceRequest`, grouped by resource, then scope,
/// each group in first-seen order, spans in input order within a group.
pub(crate) fn write(spans: &[SpanView<'_>], out: &mut dyn Write) -> Result<(), WriteError> {
    let groups = group(spans);
    let request = RequestOut {
        spans,
        groups: &groups,
    };
    serde_json::to_writer(&mut *out, &request)?;
    out.write_all(b"\n")?;
    Ok(())
}

struct ResourceGroup<'a> {
    resource: &'a Arc<Resource>,
    scopes: Vec<ScopeGroup<'a>>,
}

struct ScopeGroup<'a> {
    scope: &'a Arc<Scope>,
    spans: Vec<usize>,
}

/// Numbers distinct values in first-seen order: by pointer first (spans of one
/// resource usually share its `Arc`), then by value among those of equal fingerprint.
pub(crate) struct Grouper<'a, T> {
    values: Vec<&'a T>,
    by_pointer: HashMap<*const T, usize>,
    by_fingerprint: HashMap<&'a str, Vec<usize>>,
}

impl<'a, T: PartialEq> Grouper<'a, T> {
    pub(crate) fn new() -> Self {
        Self {
            values: Vec::new(),
            by_pointer: HashMap::new(),
            by_fingerprint: HashMap::new(),
        }
    }

    /// The group number of `item`, and whether it is new.
    pub(crate) fn index(&mut self, item: &'a Arc<T>, fingerprint: &'a str) -> (usize, bool) {
        let pointer = Arc::as_ptr(item);
        if let Some(&index) = self.by_pointer.get(&pointer) {
            return (index, false);
        }
        let candidates = self.by_fingerprint.entry(fingerprint).or_default();
        let found = candidates
            .iter()
            .copied()
            .find(|&i| self.values[i] == item.as_ref());
        let (index, new) = match found {
            Some(index) => (index, false),
            None => {
                let index = self.values.len();
                self.values.push(item.as_ref());
                candidates.push(index);
                (index, true)
            }
        };
        self.by_pointer.insert(pointer, index);
        (index, new)
    }
}

fn group<'a>(spans: &[SpanView<'a>]) -> Vec<ResourceGroup<'a>> {
    let mut groups: Vec<ResourceGroup<'a>> = Vec::new();
    let mut resources: Grouper<'a, Resource> = Grouper::new();
    let mut scopes: Vec<Grouper<'a, Scope>> = Vec::new();
    for (i, view) in spans.iter().enumerate() {
        let span: &'a Span = view.span;
        let (r, new) = resources.index(&span.resource, span.resource.service_name());
        if new {
            groups.push(ResourceGroup {
                resource: &span.resource,
                scopes: Vec::new(),
            });
            scopes.push(Grouper::new());
        }
        let group = &mut groups[r];
        let (s, new) = scopes[r].index(&span.scope, &span.scope.name);
        if new {
            group.scopes.push(ScopeGroup {
                scope: &span.scope,
                spans: Vec::new(),
            });
        }
        group.scopes[s].spans.push(i);
    }
    groups
}

struct RequestOut<'a, 'b> {
    spans: &'b [SpanView<'a>],
    groups: &'b [ResourceGroup<'a>],
}

impl Serialize for RequestOut<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(
            "resourceSpans",
            &seq(self.groups, |g| ResourceSpansOut {
                group: g,
                spans: self.spans,
            }),
        )?;
        map.end()
    }
}

/// Serializes a slice as a JSON array, each element through a function.
struct Seq<'s, T, F>(&'s [T], F);

fn seq<'s, T, O: Serialize, F: Fn(&'s T) -> O>(items: &'s [T], to_out: F) -> Seq<'s, T, F> {
    Seq(items, to_out)
}

impl<'s, T, O: Serialize, F: Fn(&'s T) -> O> Serialize for Seq<'s, T, F> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(&(self.1)(item))?;
        }
        seq.end()
    }
}

struct ResourceSpansOut<'a, 'b> {
    group: &'b ResourceGroup<'a>,
    spans: &'b [SpanView<'a>],
}

impl Serialize for ResourceSpansOut<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let resource = self.group.resource;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry(
            "resource",
            &AttributesOut {
                attributes: &resource.attributes,
                dropped: resource.dropped_attributes_count,
                extra: None,
            },
        )?;
        map.serialize_entry(
            "scopeSpans",
            &seq(&self.group.scopes, |g| ScopeSpansOut {
                group: g,
                spans: self.spans,
            }),
        )?;
        if !resource.schema_url.is_empty() {
            map.serialize_entry("schemaUrl", &resource.schema_url)?;
        }
        map.end()
    }
}

struct ScopeSpansOut<'a, 'b> {
    group: &'b ScopeGroup<'a>,
    spans: &'b [SpanView<'a>],
}

impl Serialize for ScopeSpansOut<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let scope = self.group.scope;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("scope", &ScopeOut(scope))?;
        map.serialize_entry(
            "spans",
            &seq(&self.group.spans, |&i| SpanOut(&self.spans[i])),
        )?;
        if !scope.schema_url.is_empty() {
            map.serialize_entry("schemaUrl", &scope.schema_url)?;
        }
        map.end()
    }
}

struct ScopeOut<'a>(&'a Scope);

impl Serialize for ScopeOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let scope = self.0;
        let mut map = serializer.serialize_map(None)?;
        if !scope.name.is_empty() {
            map.serialize_entry("name", &scope.name)?;
        }
        if !scope.version.is_empty() {
            map.serialize_entry("version", &scope.version)?;
        }
        if !scope.attributes.is_empty() {
            map.serialize_entry("attributes", &KeyValuesOut(&scope.attributes, None))?;
        }
        if scope.dropped_attributes_count != 0 {
            map.serialize_entry("droppedAttributesCount", &scope.dropped_attributes_count)?;
        }
        map.end()
    }
}

/// An object holding `attributes` (plus one extra attribute) and its dropped count.
struct AttributesOut<'a> {
    attributes: &'a [KeyValue],
    dropped: u32,
    extra: Option<&'a KeyValue>,
}

impl Serialize for AttributesOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("attributes", &KeyValuesOut(self.attributes, self.extra))?;
        if self.dropped != 0 {
            map.serialize_entry("droppedAttributesCount", &self.dropped)?;
        }
        map.end()
    }
}

/// Attributes, with `extra` replacing the attribute of its key (or appended).
struct KeyValuesOut<'a>(&'a [KeyValue], Option<&'a KeyValue>);

impl Serialize for KeyValuesOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        let mut extra = self.1;
        for kv in self.0 {
            match extra {
                Some(replacement) if replacement.key == kv.key => {
                    seq.serialize_element(&KeyValueOut(replacement))?;
                    extra = None;
                }
                _ => seq.serialize_element(&KeyValueOut(kv))?,
            }
        }
        if let Some(kv) = extra {
            seq.serialize_element(&KeyValueOut(kv))?;
        }
        seq.end()
    }
}

struct KeyValueOut<'a>(&'a KeyValue);

impl Serialize for KeyValueOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("key", &self.0.key)?;
        map.serialize_entry("value", &AnyValueOut(&self.0.value))?;
        map.end()
    }
}

struct AnyValueOut<'a>(&'a AnyValue);

impl Serialize for AnyValueOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match self.0 {
            AnyValue::Empty => {}
            AnyValue::String(s) => map.serialize_entry("stringValue", s)?,
            AnyValue::Bool(b) => map.serialize_entry("boolValue", b)?,
            AnyValue::Int(i) => map.serialize_entry("intValue", &i.to_string())?,
            AnyValue::Double(d) if d.is_finite() => map.serialize_entry("doubleValue", d)?,
            AnyValue::Double(d) => map.serialize_entry("doubleValue", &double_text(*d))?,
            AnyValue::Bytes(b) => map.serialize_entry("bytesValue", &base64_encode(b))?,
            AnyValue::Array(values) => {
                map.serialize_entry("arrayValue", &ValuesOut(seq(values, AnyValueOut)))?
            }
            AnyValue::KvList(values) => {
                map.serialize_entry("kvlistValue", &ValuesOut(KeyValuesOut(values, None)))?
            }
        }
        map.end()
    }
}

struct ValuesOut<T>(T);

impl<T: Serialize> Serialize for ValuesOut<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("values", &self.0)?;
        map.end()
    }
}

struct SpanOut<'a, 'b>(&'b SpanView<'a>);

impl Serialize for SpanOut<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let view = self.0;
        let span = view.span;
        let adjusted = view.adjusted_count.map(|count| KeyValue {
            key: ADJUSTED_COUNT.to_string(),
            value: AnyValue::Double(count),
        });
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("traceId", &hex(&span.trace_id))?;
        map.serialize_entry("spanId", &hex(&span.span_id))?;
        if !span.trace_state.is_empty() {
            map.serialize_entry("traceState", &span.trace_state)?;
        }
        if !view.parent.is_empty() {
            map.serialize_entry("parentSpanId", &hex(view.parent))?;
        }
        if span.flags != 0 {
            map.serialize_entry("flags", &span.flags)?;
        }
        map.serialize_entry("name", &span.name)?;
        map.serialize_entry("kind", &span.kind.as_i32())?;
        map.serialize_entry("startTimeUnixNano", &span.start_time_unix_nano.to_string())?;
        map.serialize_entry("endTimeUnixNano", &span.end_time_unix_nano.to_string())?;
        if !span.attributes.is_empty() || adjusted.is_some() {
            map.serialize_entry(
                "attributes",
                &KeyValuesOut(&span.attributes, adjusted.as_ref()),
            )?;
        }
        if span.dropped_attributes_count != 0 {
            map.serialize_entry("droppedAttributesCount", &span.dropped_attributes_count)?;
        }
        if !span.events.is_empty() {
            map.serialize_entry("events", &seq(&span.events, EventOut))?;
        }
        if span.dropped_events_count != 0 {
            map.serialize_entry("droppedEventsCount", &span.dropped_events_count)?;
        }
        if !span.links.is_empty() {
            map.serialize_entry("links", &seq(&span.links, LinkOut))?;
        }
        if span.dropped_links_count != 0 {
            map.serialize_entry("droppedLinksCount", &span.dropped_links_count)?;
        }
        if span.status != Status::default() {
            map.serialize_entry("status", &StatusOut(&span.status))?;
        }
        map.end()
    }
}

struct EventOut<'a>(&'a Event);

impl Serialize for EventOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let event = self.0;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("timeUnixNano", &event.time_unix_nano.to_string())?;
        map.serialize_entry("name", &event.name)?;
        if !event.attributes.is_empty() {
            map.serialize_entry("attributes", &KeyValuesOut(&event.attributes, None))?;
        }
        if event.dropped_attributes_count != 0 {
            map.serialize_entry("droppedAttributesCount", &event.dropped_attributes_count)?;
        }
        map.end()
    }
}

struct LinkOut<'a>(&'a Link);

impl Serialize for LinkOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let link = self.0;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("traceId", &hex(&link.trace_id))?;
        map.serialize_entry("spanId", &hex(&link.span_id))?;
        if !link.trace_state.is_empty() {
            map.serialize_entry("traceState", &link.trace_state)?;
        }
        if !link.attributes.is_empty() {
            map.serialize_entry("attributes", &KeyValuesOut(&link.attributes, None))?;
        }
        if link.dropped_attributes_count != 0 {
            map.serialize_entry("droppedAttributesCount", &link.dropped_attributes_count)?;
        }
        if link.flags != 0 {
            map.serialize_entry("flags", &link.flags)?;
        }
        map.end()
    }
}

struct StatusOut<'a>(&'a Status);

impl Serialize for StatusOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if !self.0.message.is_empty() {
            map.serialize_entry("message", &self.0.message)?;
        }
        let code = match self.0.code {
            StatusCode::Unset => 0,
            StatusCode::Ok => 1,
            StatusCode::Error => 2,
        };
        map.serialize_entry("code", &code)?;
        map.end()
    }
}
