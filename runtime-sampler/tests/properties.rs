//! Invariants of the trace-level pass over random, broken parent graphs: it terminates,
//! error spans are never lost, kept spans keep a kept parent (keep-ancestors) or get a
//! kept new parent without cycles (reparent).

use policy_schema::{Action, Generator, Overrides, Policy, Structure, StructureMode};
use proptest::prelude::*;
use runtime_sampler::{KeepReason, NewParent, Sampler, SpanView, TraceOutcome};

/// A random trace: per span (id, parent choice, is_error, sampled name). Ids are drawn
/// from a small pool, so duplicates, self-parents, cycles and missing parents all occur.
fn traces() -> impl Strategy<Value = Vec<(u8, Option<u8>, bool, u8)>> {
    proptest::collection::vec(
        (
            0u8..40,
            proptest::option::weighted(0.85, 0u8..48),
            any::<bool>(),
            0u8..4,
        ),
        0..60,
    )
}

fn policy(mode: StructureMode) -> Policy {
    let rules = serde_json::from_str(
        r#"[{"id": "keep", "match": [{"exact": "n0"}], "action": {"action": "keep"}},
            {"id": "half", "match": [{"exact": "n1"}], "action": {"action": "sample", "rate": 0.5}},
            {"id": "none", "match": [{"exact": "n2"}], "action": {"action": "sample", "rate": 0.0}}]"#,
    )
    .unwrap();
    Policy {
        schema: None,
        version: 1,
        generator: Generator {
            tool: "test".into(),
            version: "0".into(),
            source_root: None,
            arguments: Vec::new(),
        },
        target_reduction: 0.5,
        default_action: Action::Sample { rate: 0.1 },
        overrides: Overrides::default(),
        structure: Structure { mode },
        budget: None,
        rules,
    }
}

struct Owned {
    ids: Vec<String>,
    parents: Vec<Option<String>>,
    names: Vec<String>,
    errors: Vec<bool>,
}

fn build(raw: &[(u8, Option<u8>, bool, u8)]) -> Owned {
    Owned {
        ids: raw.iter().map(|r| format!("s{}", r.0)).collect(),
        parents: raw.iter().map(|r| r.1.map(|p| format!("s{p}"))).collect(),
        names: raw.iter().map(|r| format!("n{}", r.3)).collect(),
        errors: raw.iter().map(|r| r.2).collect(),
    }
}

fn views(owned: &Owned) -> Vec<SpanView<'_>> {
    (0..owned.ids.len())
        .map(|i| SpanView {
            trace_id: b"trace",
            span_id: owned.ids[i].as_bytes(),
            parent_span_id: owned.parents[i].as_deref().map(str::as_bytes),
            name: &owned.names[i],
            service: "svc",
            is_error: owned.errors[i],
            start_unix_nano: 0,
            duration_nanos: 1,
            ..SpanView::default()
        })
        .collect()
}

fn run(mode: StructureMode, spans: &[SpanView<'_>]) -> TraceOutcome {
    Sampler::new(&policy(mode)).unwrap().sample_trace(spans)
}

fn check_common(spans: &[SpanView<'_>], outcome: &TraceOutcome) -> Result<(), TestCaseError> {
    prop_assert_eq!(outcome.spans.len(), spans.len());
    for (span, out) in spans.iter().zip(&outcome.spans) {
        if span.is_error {
            prop_assert!(out.kept.is_some(), "error span dropped");
        }
        if span.name == "n0" {
            prop_assert!(out.kept.is_some());
        }
        prop_assert_eq!(
            out.decision.keep,
            matches!(out.kept, Some(r) if r != KeepReason::Ancestor)
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn keep_ancestors_keeps_every_kept_parent(raw in traces()) {
        let owned = build(&raw);
        let spans = views(&owned);
        let outcome = run(StructureMode::KeepAncestors, &spans);
        check_common(&spans, &outcome)?;
        for out in outcome.spans.iter().filter(|o| o.kept.is_some()) {
            match out.parent {
                NewParent::Span(p) => prop_assert!(outcome.spans[p].kept.is_some()),
                NewParent::Missing(top) => prop_assert!(spans[top].parent().is_some()),
                NewParent::Root => {}
            }
        }
        let repairs = outcome.repairs;
        let orphans = outcome.spans.iter().enumerate().filter(|(i, o)| matches!(o.parent, NewParent::Missing(t) if t == *i)).count();
        prop_assert_eq!(orphans as u64, repairs.missing_parents);
    }

    #[test]
    fn reparent_gives_kept_parents_and_no_cycles(raw in traces()) {
        let owned = build(&raw);
        let spans = views(&owned);
        let outcome = run(StructureMode::Reparent, &spans);
        check_common(&spans, &outcome)?;
        for (index, out) in outcome.spans.iter().enumerate().filter(|(_, o)| o.kept.is_some()) {
            // Follow new parents: must reach a root within n steps, through kept spans.
            let mut at = index;
            let mut steps = 0;
            while let NewParent::Span(p) = outcome.spans[at].parent {
                prop_assert!(outcome.spans[p].kept.is_some());
                at = p;
                steps += 1;
                prop_assert!(steps <= spans.len(), "cycle through {}", index);
            }
            let _ = out;
        }
    }
}

/// Parent index of span `i` in a generated trace shape.
type ParentOf = dyn Fn(usize) -> Option<usize>;

#[test]
fn hundred_thousand_span_traces_of_every_shape() {
    let n = 100_000usize;
    let ids: Vec<String> = (0..n).map(|i| format!("{i:x}")).collect();
    let shapes: [(&str, Box<ParentOf>); 4] = [
        ("chain", Box::new(|i| i.checked_sub(1))),
        ("star", Box::new(|i| (i > 0).then_some(0))),
        ("one big cycle", Box::new(move |i| Some((i + 1) % n))),
        ("binary tree", Box::new(|i| (i > 0).then(|| (i - 1) / 2))),
    ];
    for (shape, parent_of) in shapes {
        let parents: Vec<Option<&str>> = (0..n)
            .map(|i| parent_of(i).map(|p| ids[p].as_str()))
            .collect();
        let names: Vec<&str> = (0..n)
            .map(|i| if i.is_multiple_of(1000) { "n0" } else { "n2" })
            .collect();
        let spans: Vec<SpanView> = (0..n)
            .map(|i| SpanView {
                trace_id: b"big",
                span_id: ids[i].as_bytes(),
                parent_span_id: parents[i].map(str::as_bytes),
                name: names[i],
                service: "svc",
                is_error: false,
                start_unix_nano: 0,
                duration_nanos: 1,
                ..SpanView::default()
            })
            .collect();
        for mode in [StructureMode::KeepAncestors, StructureMode::Reparent] {
            let started = std::time::Instant::now();
            let outcome = run(mode, &spans);
            assert!(outcome.kept_indices().count() >= n / 1000, "{shape}");
            assert!(
                started.elapsed().as_secs() < 10,
                "{shape} {mode:?} took {:?}",
                started.elapsed()
            );
            if shape == "one big cycle" {
                assert_eq!(outcome.repairs.cycles_broken, 1);
            }
        }
    }
}

/// (trace id, span id, parent id, name, is_error, start, duration).
type RawSpan = (Vec<u8>, Vec<u8>, Option<Vec<u8>>, String, bool, u64, u64);

/// Arbitrary span fields (any bytes as ids, any names, extreme times) through a policy
/// with every feature on: no panic, one outcome per span, errors kept.
fn arbitrary_spans() -> impl Strategy<Value = Vec<RawSpan>> {
    proptest::collection::vec(
        (
            proptest::collection::vec(any::<u8>(), 0..4),
            proptest::collection::vec(any::<u8>(), 0..3),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..3)),
            "(\\PC|/|\\{|\\}){0,12}",
            any::<bool>(),
            prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>()],
            prop_oneof![Just(0u64), Just(u64::MAX), 0u64..10_000_000],
        ),
        0..40,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_spans_never_panic(raw in arbitrary_spans(), reparent in any::<bool>()) {
        let mut policy = policy(if reparent { StructureMode::Reparent } else { StructureMode::KeepAncestors });
        policy.budget = Some(policy_schema::Budget { spans_per_second: 5.0 });
        policy.overrides.latency = Some(policy_schema::LatencyOverride { window: 4, threshold: 1.0, min_samples: 1, min_spread_ms: 0.0 });
        policy.rules.push(serde_json::from_str(
            r#"{"id": "t", "match": [{"template": "/{a}/{b:**}"}, {"prefix": "/"}, {"glob": "*?*"}], "action": {"action": "sample", "rate": 0.3}}"#,
        ).unwrap());
        let mut sampler = Sampler::new(&policy).unwrap();
        let spans: Vec<SpanView> = raw
            .iter()
            .map(|(trace, id, parent, name, is_error, start, duration)| SpanView {
                trace_id: trace,
                span_id: id,
                parent_span_id: parent.as_deref(),
                name,
                service: "svc",
                is_error: *is_error,
                start_unix_nano: *start,
                duration_nanos: *duration,
                ..SpanView::default()
            })
            .collect();
        let outcome = sampler.sample_trace(&spans);
        prop_assert_eq!(outcome.spans.len(), spans.len());
        for (span, out) in spans.iter().zip(&outcome.spans) {
            prop_assert!(!span.is_error || out.kept.is_some());
        }
        for span in &spans {
            let _ = sampler.decide(span);
        }
        prop_assert!(!sampler.report().to_string().is_empty());
    }
}
