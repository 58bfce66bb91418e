//! The exact-name decision path allocates nothing (counted by a global allocator that
//! counts, in this test binary only).

use autoscope_otel::Autoscope;
use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanKind, TraceId, TraceState};
use opentelemetry_sdk::trace::{SamplingDecision, ShouldSample};

const POLICY: &str = r#"{
  "version": 2,
  "generator": { "tool": "test", "version": "0" },
  "target_reduction": 0.9,
  "default_action": { "action": "sample", "rate": 0.0 },
  "overrides": { "keep_errors": false },
  "rules": [
    { "id": "a", "match": [{ "exact": "OrderService.find" }], "action": { "action": "sample", "rate": 0.5 } },
    { "id": "b", "match": [{ "template": "/orders/{id}" }], "action": { "action": "keep" } },
    { "id": "c", "match": [{ "exact": "GET" }], "kind": "client",
      "attributes": [{ "key": "server.address", "exact": "payments" }], "action": { "action": "keep" } }
  ]
}"#;

fn ids(count: usize) -> Vec<TraceId> {
    let mut state = 7u64;
    (0..count)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            TraceId::from(u128::from(state) << 64 | u128::from(state.rotate_left(17)))
        })
        .collect()
}

#[test]
fn exact_name_decisions_allocate_nothing() {
    let policy = policy_schema::from_json_str(POLICY).unwrap();
    let sampler = Autoscope::new(&policy, "orders").unwrap().sampler();
    let ids = ids(1000);
    let parent = TraceState::default();
    let attributes = [KeyValue::new("server.address", "payments")];
    // Warm up (lazy statics, first-use allocations of the SDK).
    sampler.decide(
        ids[0],
        &parent,
        "OrderService.find",
        &SpanKind::Internal,
        &[],
    );
    let decided = allocation_counter::measure(|| {
        for id in &ids {
            let d = sampler.decide(*id, &parent, "OrderService.find", &SpanKind::Internal, &[]);
            std::hint::black_box(d);
            let d = sampler.decide(*id, &parent, "GET", &SpanKind::Client, &attributes);
            std::hint::black_box(d);
        }
    });
    assert_eq!(decided.count_total, 0, "{decided:?}");
    // Through the SDK interface: a dropped span allocates nothing either.
    let mut dropped = 0;
    let info = allocation_counter::measure(|| {
        for id in &ids {
            let result = sampler.should_sample(
                None,
                *id,
                "OrderService.find",
                &SpanKind::Internal,
                &[],
                &[],
            );
            // A sampled span's tracestate with `ot=th:8` is built: the SDK's
            // TraceState owns its strings.
            dropped += usize::from(result.decision == SamplingDecision::Drop);
            std::hint::black_box(result);
        }
    });
    assert!(dropped > 400, "{dropped}");
    let sampled = ids.len() - dropped;
    // Only the sampled spans' tracestates allocate: a few allocations each.
    assert!(
        info.count_total <= 4 * sampled as u64,
        "{info:?} for {sampled} sampled"
    );
    eprintln!(
        "should_sample: {} allocations for {sampled} sampled and {dropped} dropped spans",
        info.count_total
    );
}
