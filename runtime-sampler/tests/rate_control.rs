//! The rate controller wired into the sampler: one factor on every `sample` rate keeps
//! the policy monotone, `keep` rules and overrides are never scaled, the controller
//! holds the kept share at the target and the budget still caps it.

use policy_schema::{Action, Budget, Generator, Matcher, Overrides, Policy, Rule};
use proptest::prelude::*;
use runtime_sampler::{RateController, Sampler, SpanView};

fn rule(id: &str, name: &str, action: Action) -> Rule {
    Rule {
        id: id.into(),
        service: None,
        matchers: vec![Matcher::Exact(name.into())],
        action,
        kind: None,
        attributes: Vec::new(),
        evidence: None,
        profile: None,
    }
}

fn policy(parent_rate: f64, child_rate: f64) -> Policy {
    Policy {
        schema: None,
        version: 1,
        generator: Generator {
            tool: "test".into(),
            version: "0".into(),
            source_root: None,
            arguments: Vec::new(),
        },
        target_reduction: 0.9,
        default_action: Action::Sample { rate: 0.0 },
        overrides: Overrides {
            keep_errors: true,
            latency: None,
        },
        structure: Default::default(),
        budget: None,
        rules: vec![
            rule("parent", "parent", Action::Sample { rate: parent_rate }),
            rule("child", "child", Action::Sample { rate: child_rate }),
            rule("always", "always", Action::Keep),
        ],
    }
}

fn span<'a>(trace: &'a [u8], name: &'a str, is_error: bool, start: u64) -> SpanView<'a> {
    SpanView {
        trace_id: trace,
        span_id: name.as_bytes(),
        parent_span_id: None,
        trace_state: "",
        name,
        kind: None,
        attributes: &runtime_sampler::NO_ATTRIBUTES,
        service: "svc",
        is_error,
        start_unix_nano: start,
        duration_nanos: 1_000,
    }
}

proptest! {
    /// With a child's rate at most its parent's, no scale ever keeps the child of a
    /// trace whose parent was dropped by its rule.
    #[test]
    fn scaling_keeps_the_policy_monotone(
        parent_rate in 0.0f64..=1.0,
        child_share in 0.0f64..=1.0,
        scale in 1e-4f64..1e3,
        traces in proptest::collection::vec(any::<u64>(), 1..200),
    ) {
        let mut sampler = Sampler::new(&policy(parent_rate, parent_rate * child_share)).unwrap();
        sampler.set_rate_scale(scale);
        for trace in traces {
            let id = trace.to_le_bytes();
            let parent = sampler.decide(&span(&id, "parent", false, 0));
            let child = sampler.decide(&span(&id, "child", false, 0));
            prop_assert!(!child.keep || parent.keep);
            if let Some(rate) = child.effective_rate {
                prop_assert!(rate <= 1.0);
                prop_assert!(rate <= parent.effective_rate.unwrap_or(1.0));
            }
        }
    }
}

#[test]
fn keep_rules_and_errors_are_never_scaled() {
    let mut sampler = Sampler::new(&policy(1.0, 1.0)).unwrap();
    sampler.set_rate_scale(1e-6);
    let mut kept_sampled = 0;
    for trace in 0u64..1000 {
        let id = trace.to_le_bytes();
        assert!(sampler.decide(&span(&id, "always", false, 0)).keep);
        assert!(sampler.decide(&span(&id, "parent", true, 0)).keep);
        kept_sampled += usize::from(sampler.decide(&span(&id, "parent", false, 0)).keep);
    }
    assert!(kept_sampled < 5, "{kept_sampled}");
    // Bad scales are ignored.
    sampler.set_rate_scale(f64::NAN);
    sampler.set_rate_scale(0.0);
    assert_eq!(sampler.rate_scale(), 1e-6);
}

/// A sampler and controller on a stream of traces: 5% of spans are kept by a `keep`
/// rule, the rest sampled at 0.5; the target is 10% kept.
#[test]
fn the_controller_holds_the_target_on_a_live_sampler() {
    let policy = policy(0.5, 0.5);
    let mut sampler = Sampler::new(&policy).unwrap();
    let mut controller = RateController::new(1.0 - policy.target_reduction, 1_000_000_000);
    // Random 16-byte ids, as SDKs make them (the randomness may come from their bits).
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let ids: Vec<[u8; 16]> = (0..40_000)
        .map(|_| {
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&next().to_le_bytes());
            id[8..].copy_from_slice(&next().to_le_bytes());
            id
        })
        .collect();
    let mut last_window = (0usize, 0usize);
    for (index, id) in ids.iter().enumerate() {
        // 1000 traces per second of event time, 20 spans each.
        let start = index as u64 * 1_000_000;
        let mut spans: Vec<SpanView> = (0..19).map(|_| span(id, "parent", false, start)).collect();
        spans.push(span(id, "always", false, start));
        let outcome = sampler.sample_trace(&spans);
        let kept = outcome.kept_indices().count();
        let scale = controller.observe(start, spans.len() as f64, kept as f64);
        sampler.set_rate_scale(scale);
        if index >= ids.len() - 10_000 {
            last_window.0 += spans.len();
            last_window.1 += kept;
        }
    }
    let share = last_window.1 as f64 / last_window.0 as f64;
    assert!(
        (share - 0.10).abs() < 0.02,
        "kept share {share}, scale {}, windows {}, last {:?}",
        controller.scale(),
        controller.windows(),
        controller.last_share()
    );
    assert!(controller.windows() >= 30);
}

#[test]
fn the_budget_caps_the_scaled_rates() {
    let mut policy = policy(1.0, 1.0);
    policy.budget = Some(Budget {
        spans_per_second: 100.0,
    });
    let mut sampler = Sampler::new(&policy).unwrap();
    // The controller would raise rates (they are capped at 1 anyway); the budget holds.
    sampler.set_rate_scale(50.0);
    let mut kept = 0;
    for i in 0u64..10_000 {
        // 10 000 spans over 10 s: 1000/s against a budget of 100/s.
        let id = i.to_le_bytes();
        kept += usize::from(
            sampler
                .decide(&span(&id, "parent", false, i * 1_000_000))
                .keep,
        );
    }
    assert!(kept < 2_000, "{kept}");
}
