//! The SDK sampler against the conformance vectors: every case through the decision on
//! raw trace id bytes, and every case the SDK can express (a 16-byte trace id, a span
//! kind, a tracestate the SDK parses) through `ShouldSample::should_sample` itself,
//! with the `th` it writes.

use autoscope_conformance::{TypedValue, check, expect_of, read, typed_attributes, version_dir};
use autoscope_otel::{Autoscope, AutoscopeSampler};
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind as OtelSpanKind, TraceContextExt, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SamplingDecision, ShouldSample};
use policy_schema::SpanKind;
use runtime_sampler::{AttributeValue, SpanStart};
use std::collections::HashMap;
use std::str::FromStr;

fn otel_kind(kind: SpanKind) -> OtelSpanKind {
    match kind {
        SpanKind::Server => OtelSpanKind::Server,
        SpanKind::Client => OtelSpanKind::Client,
        SpanKind::Producer => OtelSpanKind::Producer,
        SpanKind::Consumer => OtelSpanKind::Consumer,
        SpanKind::Internal => OtelSpanKind::Internal,
    }
}

#[test]
fn the_sdk_sampler_agrees_with_every_vector() {
    let vectors = read(&version_dir()).unwrap();
    let mut samplers: HashMap<(String, String), AutoscopeSampler> = HashMap::new();
    let mut through_should_sample = 0usize;
    let wrong = check(&vectors, |name, policy, span| {
        let sampler = samplers
            .entry((name.to_string(), span.service.clone()))
            .or_insert_with(|| Autoscope::new(policy, &span.service).unwrap().sampler())
            .clone();
        let trace_id = span.trace_id.bytes()?;
        let typed = typed_attributes(span)?;
        let attributes: Vec<(&str, AttributeValue<'_>)> = typed
            .iter()
            .map(|(key, value)| {
                let value = match value {
                    TypedValue::Str(text) => AttributeValue::Str(text),
                    TypedValue::Int(n) => AttributeValue::Int(*n),
                    TypedValue::Bool(b) => AttributeValue::Bool(*b),
                    TypedValue::Double(d) => AttributeValue::Double(*d),
                };
                (key.as_str(), value)
            })
            .collect();
        let raw = expect_of(
            policy,
            &sampler.decide_start(&SpanStart {
                trace_id: &trace_id,
                trace_state: &span.tracestate,
                service: &span.service,
                name: &span.name,
                kind: span.kind,
                attributes: &attributes,
            }),
        );
        // The SDK path, where the case fits the SDK's types.
        let parsed_state = TraceState::from_str(&span.tracestate);
        let (Ok(id), Some(kind), Ok(parent_state)) = (
            <[u8; 16]>::try_from(trace_id.as_slice()),
            span.kind,
            parsed_state,
        ) else {
            return Ok(raw);
        };
        through_should_sample += 1;
        let otel_attributes: Vec<KeyValue> = typed
            .iter()
            .map(|(key, value)| match value {
                TypedValue::Str(text) => KeyValue::new(key.clone(), text.clone()),
                TypedValue::Int(n) => KeyValue::new(key.clone(), *n),
                TypedValue::Bool(b) => KeyValue::new(key.clone(), *b),
                TypedValue::Double(d) => KeyValue::new(key.clone(), *d),
            })
            .collect();
        let trace_id = TraceId::from_bytes(id);
        let parent = Context::new().with_remote_span_context(SpanContext::new(
            trace_id,
            SpanId::from_bytes([1; 8]),
            TraceFlags::default(),
            true,
            parent_state.clone(),
        ));
        let decision = sampler.decide(
            trace_id,
            &parent_state,
            &span.name,
            &otel_kind(kind),
            &otel_attributes,
        );
        let via_sdk = expect_of(policy, &decision);
        if via_sdk != raw {
            return Err(format!("SDK types decide {via_sdk:?}, raw bytes {raw:?}"));
        }
        let result = sampler.should_sample(
            Some(&parent),
            trace_id,
            &span.name,
            &otel_kind(kind),
            &otel_attributes,
            &[],
        );
        let written_th = result
            .trace_state
            .get("ot")
            .and_then(|ot| ot.split(';').find_map(|p| p.strip_prefix("th:")))
            .map(str::to_string);
        match result.decision {
            SamplingDecision::RecordAndSample if raw.sampled && written_th == raw.th => {}
            SamplingDecision::RecordOnly if !raw.sampled => {}
            other => {
                return Err(format!(
                    "should_sample gave {other:?} with th {written_th:?}"
                ));
            }
        }
        Ok(raw)
    });
    assert!(
        wrong.is_empty(),
        "{} of {} cases differ, e.g.\n{}",
        wrong.len(),
        vectors.cases.len(),
        wrong[..wrong.len().min(10)].join("\n")
    );
    // Most cases fit the SDK's types (the rest have 8-byte or text ids, no kind, or a
    // tracestate the SDK's parser refuses).
    assert!(through_should_sample > 550, "{through_should_sample}");
    eprintln!(
        "{} cases, {through_should_sample} of them through should_sample",
        vectors.cases.len()
    );
}
