//! The sampler and processor in a real `opentelemetry_sdk` tracer provider with the
//! in-memory exporter: the one-line setup, error spans and their local ancestors
//! exported, dropped spans not, sampled children of dropped parents keeping them, and no
//! exported span missing a parent that ran in this process.

use autoscope_otel::{Autoscope, AutoscopeExt};
use opentelemetry::trace::{
    Span as _, SpanKind, Status, TraceContextExt, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{
    InMemorySpanExporter, SdkTracerProvider, SimpleSpanProcessor, SpanData,
};
use std::collections::HashSet;

const POLICY: &str = r#"{
  "version": 2,
  "generator": { "tool": "test", "version": "0" },
  "target_reduction": 0.9,
  "default_action": { "action": "sample", "rate": 0.0 },
  "overrides": { "keep_errors": true },
  "rules": [
    { "id": "checkout", "match": [{ "exact": "POST /checkout" }], "action": { "action": "keep" } },
    { "id": "payments", "match": [{ "exact": "GET" }], "kind": "client",
      "attributes": [{ "key": "server.address", "exact": "payments" }],
      "action": { "action": "keep" } },
    { "id": "half", "match": [{ "exact": "half" }], "action": { "action": "sample", "rate": 0.5 } }
  ]
}"#;

fn setup() -> (SdkTracerProvider, InMemorySpanExporter) {
    let dir = std::env::temp_dir().join(format!("autoscope-otel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("policy.json");
    std::fs::write(&path, POLICY).unwrap();
    let exporter = InMemorySpanExporter::default();
    // The one line of setup:
    let provider = SdkTracerProvider::builder()
        .with_autoscope(
            &Autoscope::from_path(&path, "shop").unwrap(),
            SimpleSpanProcessor::new(exporter.clone()),
        )
        .build();
    (provider, exporter)
}

fn names(spans: &[SpanData]) -> Vec<&str> {
    let mut names: Vec<&str> = spans.iter().map(|s| s.name.as_ref()).collect();
    names.sort_unstable();
    names
}

/// Every exported span whose parent ran in this process (a local parent) has that
/// parent exported too.
fn assert_no_missing_local_parent(spans: &[SpanData]) {
    let exported: HashSet<_> = spans.iter().map(|s| s.span_context.span_id()).collect();
    for span in spans {
        if span.parent_span_id != opentelemetry::trace::SpanId::INVALID
            && !span.parent_span_is_remote
        {
            assert!(
                exported.contains(&span.parent_span_id),
                "{} lacks its parent",
                span.name
            );
        }
        assert!(
            span.span_context.is_sampled(),
            "{} exported unsampled",
            span.name
        );
    }
}

#[test]
fn rules_errors_and_ancestors_reach_the_exporter() {
    let (provider, exporter) = setup();
    let tracer = provider.tracer("test");
    // 1. A kept request: its span is exported with th:0; its dropped child is not.
    tracer.in_span("POST /checkout", |cx| {
        let state = cx.span().span_context().trace_state().header();
        assert_eq!(state, "ot=th:0");
        tracer.in_span("cache lookup", |_| {});
        // A payments call: kept by its attribute rule (a span named just GET).
        let mut call = tracer
            .span_builder("GET")
            .with_kind(SpanKind::Client)
            .with_attributes([KeyValue::new("server.address", "payments")])
            .start_with_context(&tracer, &cx);
        call.end();
        // Another GET, to another host: default rate 0, dropped.
        let mut other = tracer
            .span_builder("GET")
            .with_kind(SpanKind::Client)
            .with_attributes([KeyValue::new("server.address", "inventory")])
            .start_with_context(&tracer, &cx);
        other.end();
    });
    // 2. A dropped request whose grandchild fails: the error span and both of its
    // dropped ancestors are exported when they end.
    tracer.in_span("GET /orders", |_cx| {
        tracer.in_span("load order", |_cx| {
            tracer.in_span("query", |cx| {
                cx.span().set_status(Status::error("timeout"));
            });
            tracer.in_span("sibling", |_| {});
        });
    });
    // 3. A kept span under a dropped parent: the parent is exported when it ends.
    tracer.in_span("worker tick", |cx| {
        let mut kept = tracer
            .span_builder("GET")
            .with_kind(SpanKind::Client)
            .with_attributes([KeyValue::new("server.address", "payments")])
            .start_with_context(&tracer, &cx);
        kept.end();
    });
    provider.force_flush().unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    assert_eq!(
        names(&spans),
        [
            "GET",
            "GET",
            "GET /orders",
            "POST /checkout",
            "load order",
            "query",
            "worker tick"
        ]
    );
    assert_no_missing_local_parent(&spans);
    let error = spans.iter().find(|s| s.name == "query").unwrap();
    assert!(matches!(error.status, Status::Error { .. }));
}

#[test]
fn sampled_spans_carry_their_threshold_and_nest_across_rates() {
    let (provider, exporter) = setup();
    let tracer = provider.tracer("test");
    for _ in 0..400 {
        tracer.in_span("half", |_| {});
    }
    provider.force_flush().unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    // Rate 0.5 over 400 random trace ids: about 200 kept (10 sigma bounds).
    assert!((100..=300).contains(&spans.len()), "{}", spans.len());
    for span in &spans {
        assert_eq!(span.span_context.trace_state().get("ot"), Some("th:8"));
        // Kept iff the low 56 bits of the trace id reach 2^55: the top bit of byte 9.
        assert!(span.span_context.trace_id().to_bytes()[9] & 0x80 != 0);
    }
}

#[test]
fn an_explicit_rv_in_the_parent_tracestate_decides() {
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
    use std::str::FromStr;
    let (provider, exporter) = setup();
    let tracer = provider.tracer("test");
    for (rv, kept) in [("ffffffffffffff", true), ("00000000000001", false)] {
        let state = TraceState::from_str(&format!("ot=rv:{rv},vendor=x")).unwrap();
        let parent = Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from_bytes([0x11; 16]),
            SpanId::from_bytes([2; 8]),
            TraceFlags::SAMPLED,
            true,
            state,
        ));
        let mut span = tracer.start_with_context("half", &parent);
        assert_eq!(span.span_context().is_sampled(), kept);
        if kept {
            let header = span.span_context().trace_state().header();
            assert_eq!(header, format!("ot=th:8;rv:{rv},vendor=x"));
        }
        span.end();
    }
    provider.force_flush().unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    assert_eq!(spans.len(), 1);
    // The remote parent is not ours to export: the span still counts as complete here.
    assert_no_missing_local_parent(&spans);
}
