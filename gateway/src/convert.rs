//! OTLP protobuf types (`opentelemetry-proto`) ⇄ the span model of `trace-formats`.
//!
//! The gateway receives and forwards protobuf; the archive and the spill are tracezip
//! files, whose codec works on the model, and OTLP/JSON bodies are read with the
//! `trace-formats` reader. Both directions map field for field, so a span survives
//! protobuf → model → protobuf unchanged (tested).

use opentelemetry_proto::tonic::common::v1 as pb_common;
use opentelemetry_proto::tonic::resource::v1 as pb_resource;
use opentelemetry_proto::tonic::trace::v1 as pb;
use std::sync::Arc;
use trace_formats::model;

/// A protobuf `AnyValue` as a model value.
pub fn value_from_proto(value: Option<&pb_common::AnyValue>) -> model::AnyValue {
    use pb_common::any_value::Value;
    match value.and_then(|v| v.value.as_ref()) {
        None => model::AnyValue::Empty,
        Some(Value::StringValue(s)) => model::AnyValue::String(s.clone()),
        Some(Value::BoolValue(b)) => model::AnyValue::Bool(*b),
        Some(Value::IntValue(i)) => model::AnyValue::Int(*i),
        Some(Value::DoubleValue(d)) => model::AnyValue::Double(*d),
        Some(Value::BytesValue(b)) => model::AnyValue::Bytes(b.clone()),
        Some(Value::ArrayValue(a)) => {
            model::AnyValue::Array(a.values.iter().map(|v| value_from_proto(Some(v))).collect())
        }
        Some(Value::KvlistValue(kv)) => model::AnyValue::KvList(attributes_from_proto(&kv.values)),
        // A string-table index (profiles only); spans never carry one.
        Some(Value::StringValueStrindex(_)) => model::AnyValue::Empty,
    }
}

/// A model value as a protobuf `AnyValue`.
pub fn value_to_proto(value: &model::AnyValue) -> Option<pb_common::AnyValue> {
    use pb_common::any_value::Value;
    let value = match value {
        model::AnyValue::Empty => return None,
        model::AnyValue::String(s) => Value::StringValue(s.clone()),
        model::AnyValue::Bool(b) => Value::BoolValue(*b),
        model::AnyValue::Int(i) => Value::IntValue(*i),
        model::AnyValue::Double(d) => Value::DoubleValue(*d),
        model::AnyValue::Bytes(b) => Value::BytesValue(b.clone()),
        model::AnyValue::Array(values) => Value::ArrayValue(pb_common::ArrayValue {
            values: values
                .iter()
                .map(|v| value_to_proto(v).unwrap_or_default())
                .collect(),
        }),
        model::AnyValue::KvList(values) => Value::KvlistValue(pb_common::KeyValueList {
            values: attributes_to_proto(values),
        }),
    };
    Some(pb_common::AnyValue { value: Some(value) })
}

/// Protobuf attributes as model attributes.
pub fn attributes_from_proto(attributes: &[pb_common::KeyValue]) -> Vec<model::KeyValue> {
    attributes
        .iter()
        .map(|kv| model::KeyValue {
            key: kv.key.clone(),
            value: value_from_proto(kv.value.as_ref()),
        })
        .collect()
}

/// Model attributes as protobuf attributes.
pub fn attributes_to_proto(attributes: &[model::KeyValue]) -> Vec<pb_common::KeyValue> {
    attributes
        .iter()
        .map(|kv| pb_common::KeyValue {
            key: kv.key.clone(),
            value: value_to_proto(&kv.value),
            key_strindex: 0,
        })
        .collect()
}

/// A protobuf resource (with its `ResourceSpans` schema URL) as a model resource.
pub fn resource_from_proto(
    resource: Option<&pb_resource::Resource>,
    schema_url: &str,
) -> model::Resource {
    model::Resource {
        attributes: resource.map_or_else(Vec::new, |r| attributes_from_proto(&r.attributes)),
        dropped_attributes_count: resource.map_or(0, |r| r.dropped_attributes_count),
        schema_url: schema_url.to_string(),
    }
}

/// A model resource as protobuf (its schema URL goes to the `ResourceSpans`).
pub fn resource_to_proto(resource: &model::Resource) -> pb_resource::Resource {
    pb_resource::Resource {
        attributes: attributes_to_proto(&resource.attributes),
        dropped_attributes_count: resource.dropped_attributes_count,
        entity_refs: Vec::new(),
    }
}

/// A protobuf scope (with its `ScopeSpans` schema URL) as a model scope.
pub fn scope_from_proto(
    scope: Option<&pb_common::InstrumentationScope>,
    schema_url: &str,
) -> model::Scope {
    model::Scope {
        name: scope.map_or_else(String::new, |s| s.name.clone()),
        version: scope.map_or_else(String::new, |s| s.version.clone()),
        attributes: scope.map_or_else(Vec::new, |s| attributes_from_proto(&s.attributes)),
        dropped_attributes_count: scope.map_or(0, |s| s.dropped_attributes_count),
        schema_url: schema_url.to_string(),
    }
}

/// A model scope as protobuf (its schema URL goes to the `ScopeSpans`).
pub fn scope_to_proto(scope: &model::Scope) -> pb_common::InstrumentationScope {
    pb_common::InstrumentationScope {
        name: scope.name.clone(),
        version: scope.version.clone(),
        attributes: attributes_to_proto(&scope.attributes),
        dropped_attributes_count: scope.dropped_attributes_count,
    }
}

/// A protobuf span as a model span of `resource` and `scope`.
pub fn span_from_proto(
    span: &pb::Span,
    resource: Arc<model::Resource>,
    scope: Arc<model::Scope>,
) -> model::Span {
    let status = span.status.as_ref();
    model::Span {
        trace_id: span.trace_id.clone(),
        span_id: span.span_id.clone(),
        parent_span_id: span.parent_span_id.clone(),
        trace_state: span.trace_state.clone(),
        name: span.name.clone(),
        kind: model::SpanKind::from_i32(span.kind),
        start_time_unix_nano: span.start_time_unix_nano,
        end_time_unix_nano: span.end_time_unix_nano,
        attributes: attributes_from_proto(&span.attributes),
        dropped_attributes_count: span.dropped_attributes_count,
        events: span
            .events
            .iter()
            .map(|e| model::Event {
                time_unix_nano: e.time_unix_nano,
                name: e.name.clone(),
                attributes: attributes_from_proto(&e.attributes),
                dropped_attributes_count: e.dropped_attributes_count,
            })
            .collect(),
        dropped_events_count: span.dropped_events_count,
        links: span
            .links
            .iter()
            .map(|l| model::Link {
                trace_id: l.trace_id.clone(),
                span_id: l.span_id.clone(),
                trace_state: l.trace_state.clone(),
                attributes: attributes_from_proto(&l.attributes),
                dropped_attributes_count: l.dropped_attributes_count,
                flags: l.flags,
            })
            .collect(),
        dropped_links_count: span.dropped_links_count,
        status: model::Status {
            message: status.map_or_else(String::new, |s| s.message.clone()),
            code: match status.map_or(0, |s| s.code) {
                1 => model::StatusCode::Ok,
                2 => model::StatusCode::Error,
                _ => model::StatusCode::Unset,
            },
        },
        flags: span.flags,
        resource,
        scope,
    }
}

/// A model span as protobuf (its resource and scope go to the enclosing messages).
pub fn span_to_proto(span: &model::Span) -> pb::Span {
    let code = match span.status.code {
        model::StatusCode::Unset => 0,
        model::StatusCode::Ok => 1,
        model::StatusCode::Error => 2,
    };
    pb::Span {
        trace_id: span.trace_id.clone(),
        span_id: span.span_id.clone(),
        trace_state: span.trace_state.clone(),
        parent_span_id: span.parent_span_id.clone(),
        flags: span.flags,
        name: span.name.clone(),
        kind: span.kind.as_i32(),
        start_time_unix_nano: span.start_time_unix_nano,
        end_time_unix_nano: span.end_time_unix_nano,
        attributes: attributes_to_proto(&span.attributes),
        dropped_attributes_count: span.dropped_attributes_count,
        events: span
            .events
            .iter()
            .map(|e| pb::span::Event {
                time_unix_nano: e.time_unix_nano,
                name: e.name.clone(),
                attributes: attributes_to_proto(&e.attributes),
                dropped_attributes_count: e.dropped_attributes_count,
            })
            .collect(),
        dropped_events_count: span.dropped_events_count,
        links: span
            .links
            .iter()
            .map(|l| pb::span::Link {
                trace_id: l.trace_id.clone(),
                span_id: l.span_id.clone(),
                trace_state: l.trace_state.clone(),
                attributes: attributes_to_proto(&l.attributes),
                dropped_attributes_count: l.dropped_attributes_count,
                flags: l.flags,
            })
            .collect(),
        dropped_links_count: span.dropped_links_count,
        status: (code != 0 || !span.status.message.is_empty()).then(|| pb::Status {
            message: span.status.message.clone(),
            code,
        }),
    }
}

/// Model spans as one `ExportTraceServiceRequest`'s resource spans: consecutive spans
/// sharing a resource (and then a scope) — the same `Arc` — are grouped.
pub fn spans_to_resource_spans(spans: &[model::Span]) -> Vec<pb::ResourceSpans> {
    let mut out: Vec<pb::ResourceSpans> = Vec::new();
    let mut last: Option<(*const model::Resource, *const model::Scope)> = None;
    for span in spans {
        let resource_key = Arc::as_ptr(&span.resource);
        let scope_key = Arc::as_ptr(&span.scope);
        let same_resource = last.is_some_and(|(r, _)| r == resource_key);
        if !same_resource {
            out.push(pb::ResourceSpans {
                resource: Some(resource_to_proto(&span.resource)),
                scope_spans: Vec::new(),
                schema_url: span.resource.schema_url.clone(),
            });
            last = None;
        }
        let resource_spans = out.last_mut().expect("pushed above");
        let same_scope = last.is_some_and(|(_, s)| s == scope_key);
        if !same_scope {
            resource_spans.scope_spans.push(pb::ScopeSpans {
                scope: Some(scope_to_proto(&span.scope)),
                spans: Vec::new(),
                schema_url: span.scope.schema_url.clone(),
            });
        }
        resource_spans
            .scope_spans
            .last_mut()
            .expect("pushed above")
            .spans
            .push(span_to_proto(span));
        last = Some((resource_key, scope_key));
    }
    out
}
