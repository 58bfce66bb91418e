//! Exact span comparison: like `==`, but doubles compare by their bits, so that NaN
//! equals the same NaN and `-0.0` differs from `0.0` — the sense in which tracezip is
//! lossless.

use trace_formats::{AnyValue, Event, KeyValue, Link, Resource, Scope, Span};

/// Whether `left` and `right` hold the same spans, doubles compared bitwise.
pub fn spans_identical(left: &[Span], right: &[Span]) -> bool {
    left.len() == right.len() && left.iter().zip(right).all(|(a, b)| span_identical(a, b))
}

/// Whether two spans are the same, doubles compared bitwise.
pub fn span_identical(a: &Span, b: &Span) -> bool {
    a.trace_id == b.trace_id
        && a.span_id == b.span_id
        && a.parent_span_id == b.parent_span_id
        && a.trace_state == b.trace_state
        && a.name == b.name
        && a.kind == b.kind
        && a.start_time_unix_nano == b.start_time_unix_nano
        && a.end_time_unix_nano == b.end_time_unix_nano
        && attributes_identical(&a.attributes, &b.attributes)
        && a.dropped_attributes_count == b.dropped_attributes_count
        && a.events.len() == b.events.len()
        && a.events
            .iter()
            .zip(&b.events)
            .all(|(x, y)| event_identical(x, y))
        && a.dropped_events_count == b.dropped_events_count
        && a.links.len() == b.links.len()
        && a.links
            .iter()
            .zip(&b.links)
            .all(|(x, y)| link_identical(x, y))
        && a.dropped_links_count == b.dropped_links_count
        && a.status == b.status
        && a.flags == b.flags
        && resource_identical(&a.resource, &b.resource)
        && scope_identical(&a.scope, &b.scope)
}

fn event_identical(a: &Event, b: &Event) -> bool {
    a.time_unix_nano == b.time_unix_nano
        && a.name == b.name
        && attributes_identical(&a.attributes, &b.attributes)
        && a.dropped_attributes_count == b.dropped_attributes_count
}

fn link_identical(a: &Link, b: &Link) -> bool {
    a.trace_id == b.trace_id
        && a.span_id == b.span_id
        && a.trace_state == b.trace_state
        && attributes_identical(&a.attributes, &b.attributes)
        && a.dropped_attributes_count == b.dropped_attributes_count
        && a.flags == b.flags
}

fn resource_identical(a: &Resource, b: &Resource) -> bool {
    attributes_identical(&a.attributes, &b.attributes)
        && a.dropped_attributes_count == b.dropped_attributes_count
        && a.schema_url == b.schema_url
}

fn scope_identical(a: &Scope, b: &Scope) -> bool {
    a.name == b.name
        && a.version == b.version
        && attributes_identical(&a.attributes, &b.attributes)
        && a.dropped_attributes_count == b.dropped_attributes_count
        && a.schema_url == b.schema_url
}

fn attributes_identical(a: &[KeyValue], b: &[KeyValue]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.key == y.key && value_identical(&x.value, &y.value))
}

/// Whether two values are the same, doubles compared bitwise.
pub fn value_identical(a: &AnyValue, b: &AnyValue) -> bool {
    match (a, b) {
        (AnyValue::Double(x), AnyValue::Double(y)) => x.to_bits() == y.to_bits(),
        (AnyValue::Array(x), AnyValue::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| value_identical(p, q))
        }
        (AnyValue::KvList(x), AnyValue::KvList(y)) => attributes_identical(x, y),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_compare_by_bits() {
        let nan = AnyValue::Double(f64::NAN);
        assert!(value_identical(&nan, &nan.clone()));
        assert!(!value_identical(
            &AnyValue::Double(0.0),
            &AnyValue::Double(-0.0)
        ));
        let nested = AnyValue::Array(vec![AnyValue::KvList(vec![KeyValue {
            key: "k".into(),
            value: nan.clone(),
        }])]);
        assert!(value_identical(&nested, &nested.clone()));
        assert!(!value_identical(&nested, &AnyValue::Array(vec![])));
    }
}
