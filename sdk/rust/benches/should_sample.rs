//! Decision cost per span: Autoscope's sampler against the SDK's own `TraceIdRatioBased`
//! and `ParentBased(TraceIdRatioBased)` on the same trace ids, in one run.
//!
//! Run: `cargo bench -p autoscope-otel --bench should_sample -- --quick`

use autoscope_otel::Autoscope;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry::trace::{SpanKind, TraceId, TraceState};
use opentelemetry_sdk::trace::{Sampler, ShouldSample};
use std::hint::black_box;

/// 20 services' worth of exact names (200 rules) plus templates, at rate 0.5 or keep.
fn policy() -> policy_schema::Policy {
    let mut rules = Vec::new();
    for s in 0..20 {
        for e in 0..10 {
            let action = if e % 2 == 0 {
                r#"{"action": "sample", "rate": 0.5}"#
            } else {
                r#"{"action": "sample", "rate": 0.25}"#
            };
            rules.push(format!(
                r#"{{"id": "s{s}e{e}", "match": [{{"exact": "Service{s}.method{e}"}}], "action": {action}}}"#
            ));
        }
        rules.push(format!(
            r#"{{"id": "s{s}t", "match": [{{"template": "/api/svc{s}/{{id}}"}}], "action": {{"action": "keep"}}}}"#
        ));
    }
    policy_schema::from_json_str(&format!(
        r#"{{"version": 2, "generator": {{"tool": "bench", "version": "0"}}, "target_reduction": 0.5,
            "default_action": {{"action": "sample", "rate": 0.5}}, "overrides": {{"keep_errors": false}},
            "rules": [{}]}}"#,
        rules.join(",")
    ))
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let mut state = 0x1234_5678u64;
    let ids: Vec<TraceId> = (0..10_000)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            TraceId::from(u128::from(state) << 64 | u128::from(state.rotate_left(29)))
        })
        .collect();
    let names: Vec<String> = (0..10_000)
        .map(|i| format!("Service{}.method{}", i % 20, (i / 20) % 10))
        .collect();
    let autoscope = Autoscope::new(&policy(), "service-07").unwrap().sampler();
    let ratio = Sampler::TraceIdRatioBased(0.5);
    let parent_based = Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(0.5)));
    let empty = TraceState::default();
    let mut group = c.benchmark_group("should_sample per span");
    group.throughput(Throughput::Elements(ids.len() as u64));
    let run = |sampler: &dyn ShouldSample| {
        let mut sampled = 0usize;
        for (id, name) in ids.iter().zip(&names) {
            let result = sampler.should_sample(None, *id, name, &SpanKind::Internal, &[], &[]);
            sampled += usize::from(result.trace_state.get("x").is_none());
            black_box(result);
        }
        sampled
    };
    group.bench_function("TraceIdRatioBased(0.5)", |b| b.iter(|| run(&ratio)));
    group.bench_function("ParentBased(TraceIdRatioBased(0.5))", |b| {
        b.iter(|| run(&parent_based))
    });
    group.bench_function("autoscope, exact names", |b| b.iter(|| run(&autoscope)));
    group.bench_function("autoscope decide only (no tracestate written)", |b| {
        b.iter(|| {
            ids.iter()
                .zip(&names)
                .filter(|(id, name)| {
                    autoscope
                        .decide(**id, &empty, name, &SpanKind::Internal, &[])
                        .sampled
                })
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
