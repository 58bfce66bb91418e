//! Sampler behaviour end to end: consistent sampling, overrides, budget, the example
//! policy.

use policy_schema::{Action, Budget, Generator, LatencyOverride, Matcher, Overrides, Policy, Rule};
use runtime_sampler::{
    DecidedBy, KeepReason, NewParent, OverrideKind, Sampler, SpanView, consistent,
};

fn policy(rules: Vec<Rule>, default_action: Action) -> Policy {
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
        default_action,
        overrides: Overrides {
            keep_errors: true,
            latency: None,
        },
        structure: Default::default(),
        budget: None,
        rules,
    }
}

fn sample_rule(id: &str, name: &str, rate: f64) -> Rule {
    Rule {
        id: id.into(),
        service: None,
        matchers: vec![Matcher::Exact(name.into())],
        action: Action::Sample { rate },
        profile: None,
        kind: None,
        attributes: Vec::new(),
        evidence: None,
    }
}

fn view<'a>(trace: &'a [u8], span: &'a [u8], name: &'a str) -> SpanView<'a> {
    SpanView {
        trace_id: trace,
        span_id: span,
        parent_span_id: None,
        name,
        service: "svc",
        is_error: false,
        start_unix_nano: 1_700_000_000_000_000_000,
        duration_nanos: 1_000_000,
        ..SpanView::default()
    }
}

/// A fixed-seed generator (SplitMix64) so the statistical tests cannot flake.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn trace_id(&mut self) -> String {
        format!("{:016x}{:016x}", self.next(), self.next())
    }
}

#[test]
fn realized_rate_is_close_to_the_rate() {
    let mut rng = SplitMix(7);
    let ids: Vec<String> = (0..100_000).map(|_| rng.trace_id()).collect();
    for rate in [0.01, 0.1, 0.25, 0.5, 0.9] {
        let mut sampler =
            Sampler::new(&policy(vec![sample_rule("r", "op", rate)], Action::Keep)).unwrap();
        let kept = ids
            .iter()
            .filter(|id| sampler.decide(&view(id.as_bytes(), b"s", "op")).keep)
            .count();
        let realized = kept as f64 / ids.len() as f64;
        // 5 standard deviations of a binomial proportion; the seed is fixed.
        let tolerance = 5.0 * (rate * (1.0 - rate) / ids.len() as f64).sqrt();
        assert!(
            (realized - rate).abs() < tolerance,
            "rate {rate}: realized {realized}"
        );
    }
}

#[test]
fn text_trace_ids_sample_evenly_too() {
    // Sequential, low-entropy ids such as research CSVs use.
    let ids: Vec<String> = (0..50_000).map(|i| format!("trace-{i}")).collect();
    let kept = ids
        .iter()
        .filter(|id| {
            consistent::keeps(
                consistent::trace_randomness(id.as_bytes()),
                consistent::threshold(0.2),
            )
        })
        .count();
    let realized = kept as f64 / ids.len() as f64;
    assert!(
        (realized - 0.2).abs() < 5.0 * (0.2 * 0.8 / 50_000f64).sqrt(),
        "{realized}"
    );
}

#[test]
fn decisions_are_consistent_across_samplers_and_nested_across_rates() {
    let mut rng = SplitMix(11);
    let ids: Vec<String> = (0..5_000).map(|_| rng.trace_id()).collect();
    let rates = [0.05, 0.2, 0.5, 0.8];
    let mut samplers: Vec<Sampler> = rates
        .iter()
        .map(|&r| Sampler::new(&policy(vec![sample_rule("r", "op", r)], Action::Keep)).unwrap())
        .collect();
    // A second "replica" at 0.2 with the rule under another service-less position.
    let mut replica = Sampler::new(&policy(
        vec![sample_rule("other", "x", 1.0), sample_rule("r", "op", 0.2)],
        Action::Keep,
    ))
    .unwrap();
    for id in &ids {
        let span = view(id.as_bytes(), b"s", "op");
        let kept: Vec<bool> = samplers.iter_mut().map(|s| s.decide(&span).keep).collect();
        assert!(
            kept.windows(2).all(|w| !w[0] || w[1]),
            "not nested for {id}: {kept:?}"
        );
        assert_eq!(replica.decide(&span).keep, kept[1]);
    }
}

#[test]
fn adjusted_counts_estimate_the_input() {
    let mut rng = SplitMix(3);
    let mut sampler =
        Sampler::new(&policy(vec![sample_rule("r", "op", 0.1)], Action::Keep)).unwrap();
    let mut total = 0.0;
    for _ in 0..50_000 {
        let id = rng.trace_id();
        let decision = sampler.decide(&view(id.as_bytes(), b"s", "op"));
        assert_eq!(decision.decided_by, DecidedBy::Rule(0));
        if decision.keep {
            assert!((decision.adjusted_count - 10.0).abs() < 1e-9);
        }
        total += decision.adjusted_count;
    }
    assert!((total / 50_000.0 - 1.0).abs() < 0.05, "{total}");
    assert_eq!(sampler.report().rules[0].spans_in, 50_000);
}

#[test]
fn error_spans_are_always_kept() {
    let mut sampler = Sampler::new(&policy(
        vec![sample_rule("r", "op", 0.0)],
        Action::Sample { rate: 0.0 },
    ))
    .unwrap();
    let mut span = view(b"t", b"s", "op");
    assert!(!sampler.decide(&span).keep);
    span.is_error = true;
    let decision = sampler.decide(&span);
    assert!(decision.keep);
    assert_eq!(decision.override_fired, Some(OverrideKind::Error));
    span.name = "unmatched";
    assert_eq!(sampler.decide(&span).decided_by, DecidedBy::Default);
    assert!(sampler.decide(&span).keep);
}

#[test]
fn injected_delays_are_kept() {
    let mut p = policy(
        vec![sample_rule("r", "GET /orders/{id}", 0.0)],
        Action::Sample { rate: 0.0 },
    );
    p.rules[0].matchers = vec![Matcher::Template("GET /orders/{id}".into())];
    p.overrides.latency = Some(LatencyOverride {
        window: 64,
        threshold: 6.0,
        min_samples: 16,
        ..LatencyOverride::default()
    });
    let mut sampler = Sampler::new(&p).unwrap();
    let mut rng = SplitMix(5);
    let injected = [40usize, 41, 120, 300];
    let mut kept = Vec::new();
    for i in 0..400usize {
        // 20 ms +- 3 ms, each span a different order id (one window for the template).
        let mut duration = 17_000_000 + rng.next() % 6_000_000;
        if injected.contains(&i) {
            duration = 250_000_000;
        }
        let name = format!("GET /orders/{i}");
        let trace = format!("t{i}");
        let mut span = view(trace.as_bytes(), b"s", &name);
        span.duration_nanos = duration;
        let decision = sampler.decide(&span);
        if decision.keep {
            assert_eq!(decision.override_fired, Some(OverrideKind::Latency));
            kept.push(i);
        }
        // Same name, another service: a separate window that never sees the delays.
        span.service = "other";
        span.duration_nanos = 20_000_000;
        assert!(!sampler.decide(&span).keep);
    }
    assert_eq!(kept, injected);
    assert_eq!(sampler.report().rules[0].kept_by_latency, 4);
}

#[test]
fn budget_caps_a_burst_and_releases_after() {
    let mut p = policy(
        vec![sample_rule("hot", "op", 0.5), {
            let mut r = sample_rule("always", "keep-me", 1.0);
            r.action = Action::Keep;
            r
        }],
        Action::Keep,
    );
    p.budget = Some(Budget {
        spans_per_second: 200.0,
    });
    let mut sampler = Sampler::new(&p).unwrap();
    let mut rng = SplitMix(9);
    let second = 1_000_000_000u64;
    let start = 1_700_000_000 * second;
    // Per second of event time: how many "op" spans were kept.
    let mut run = |seconds: std::ops::Range<u64>, per_second: u64, sampler: &mut Sampler| {
        let mut kept_per_second = Vec::new();
        for s in seconds {
            let mut kept = 0;
            for i in 0..per_second {
                let id = rng.trace_id();
                let mut span = view(id.as_bytes(), b"s", "op");
                span.start_unix_nano = start + s * second + i * (second / per_second);
                kept += u64::from(sampler.decide(&span).keep);
                span.name = "keep-me";
                assert!(sampler.decide(&span).keep, "keep rules are never scaled");
            }
            kept_per_second.push(kept);
        }
        kept_per_second
    };
    // Calm: 100 spans/s at rate 0.5 is 50/s, under budget: no scaling.
    let calm = run(0..5, 100, &mut sampler);
    assert_eq!(sampler.budget_scale(), 1.0);
    assert!(calm.iter().all(|&k| (30..=70).contains(&k)), "{calm:?}");
    // Burst: 4000 spans/s would keep 2000/s; after a few seconds about 200/s.
    let burst = run(5..15, 4000, &mut sampler);
    // The first second reacts within the second: about 200 * (1 + ln(2000 / 200)) = 660
    // kept instead of 2000.
    assert!(burst[0] < 800, "burst {burst:?}");
    for &kept in &burst[4..] {
        assert!((150..=250).contains(&kept), "burst {burst:?}");
    }
    // Calm again: back to the full rate within a few seconds.
    let after = run(15..25, 100, &mut sampler);
    assert_eq!(sampler.budget_scale(), 1.0);
    assert!(
        after[5..].iter().all(|&k| (30..=70).contains(&k)),
        "{after:?}"
    );
}

#[test]
fn example_policy_on_a_shop_trace() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/policies/example.json"
    );
    let policy = policy_schema::from_path(std::path::Path::new(path)).unwrap();
    let mut sampler = Sampler::new(&policy).unwrap();
    let span = |id: &'static str,
                parent: Option<&'static str>,
                service: &'static str,
                name: &'static str| SpanView {
        trace_id: b"shop-trace-1",
        span_id: id.as_bytes(),
        parent_span_id: parent.map(str::as_bytes),
        name,
        service,
        is_error: false,
        start_unix_nano: 1_700_000_000_000_000_000,
        duration_nanos: 2_000_000,
        ..SpanView::default()
    };
    let mut spans = vec![
        span("1", None, "frontend", "HTTP POST"),
        span("2", Some("1"), "order-service", "{POST}/api/v1/orders"),
        span("3", Some("2"), "order-service", "MongoDB/InsertOperation"),
        span("4", Some("2"), "payment-service", "/api/v1/payments/42"),
        span("5", None, "frontend", "/static/app.css"),
        span("6", Some("5"), "frontend", "/healthz"),
    ];
    spans[5].is_error = true;
    let rule_of = |s: &Sampler, service, name| {
        s.rule_for(service, name)
            .map(|m| policy.rules[m.rule as usize].id.clone())
    };
    assert_eq!(
        rule_of(&sampler, "order-service", "{GET}/api/v1/orders/17").as_deref(),
        Some("order-get")
    );
    assert_eq!(
        rule_of(&sampler, "order-service", "MongoDB/FindOperation").as_deref(),
        Some("order-mongo")
    );
    assert_eq!(
        rule_of(&sampler, "frontend", "HTTP GET").as_deref(),
        Some("frontend-http-get")
    );
    assert_eq!(
        rule_of(&sampler, "payment-service", "/api/v1/payments/9").as_deref(),
        Some("payment-charge")
    );
    assert_eq!(rule_of(&sampler, "frontend", "/api/v1/payments/9"), None);
    assert_eq!(
        rule_of(&sampler, "x", "/a/healthz").as_deref(),
        Some("health-checks")
    );
    let outcome = sampler.sample_trace(&spans);
    let reasons: Vec<Option<KeepReason>> = outcome.spans.iter().map(|s| s.kept).collect();
    assert_eq!(reasons[0], Some(KeepReason::Rule));
    assert_eq!(reasons[1], Some(KeepReason::Rule));
    assert_eq!(reasons[3], Some(KeepReason::Rule));
    // The error health check is kept, and with it its parent (sampled at 1%).
    assert_eq!(reasons[5], Some(KeepReason::Error));
    assert!(reasons[4].is_some());
    assert_eq!(outcome.spans[3].parent, NewParent::Span(1));
    assert_eq!(outcome.output_parent(&spans, 3), Some(&b"2"[..]));
    assert_eq!(outcome.repairs.roots, 2);
    let report = sampler.report().to_string();
    assert!(report.starts_with("traces 1  spans in 6"), "{report}");
    // The rendered report, in rule order, beside the policy (AUTOSCOPE_BLESS=1 rewrites).
    let expected_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/policies/example.report.txt"
    );
    if std::env::var_os("AUTOSCOPE_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(expected_path, &report).unwrap();
    }
    let expected = std::fs::read_to_string(expected_path).unwrap_or_default();
    assert_eq!(
        report, expected,
        "rerun with AUTOSCOPE_BLESS=1 if the change is intended"
    );
}

#[test]
fn under_budget_pressure_a_trace_is_decided_as_a_whole() {
    let mut p = policy(vec![sample_rule("hot", "op", 1.0)], Action::Keep);
    p.budget = Some(Budget {
        spans_per_second: 50.0,
    });
    let mut sampler = Sampler::new(&p).unwrap();
    let mut rng = SplitMix(13);
    let second = 1_000_000_000u64;
    let (mut partial, mut kept_traces) = (0, 0);
    for t in 0..3000u64 {
        let id = rng.trace_id();
        let ids: Vec<String> = (0..10).map(|i| format!("{i}")).collect();
        // 1000 traces of 10 spans per second; the spans straddle bucket boundaries.
        let spans: Vec<SpanView> = (0..10)
            .map(|i| {
                let mut span = view(id.as_bytes(), ids[i].as_bytes(), "op");
                span.parent_span_id = (i > 0).then(|| ids[0].as_bytes());
                span.start_unix_nano = t * second / 1000 + i as u64 * second / 2000;
                span
            })
            .collect();
        let outcome = sampler.sample_trace(&spans);
        let kept = outcome.kept_indices().count();
        partial += usize::from(kept != 0 && kept != 10);
        kept_traces += usize::from(kept == 10);
    }
    assert_eq!(partial, 0);
    assert!(sampler.budget_scale() < 0.01, "{}", sampler.budget_scale());
    // 3 s at a budget of 50 spans/s is 150 spans, 15 traces; the first second of the
    // burst admits about 50 * (1 + ln(10000 / 50)) = 315 spans before the scale settles.
    assert!((10..=60).contains(&kept_traces), "{kept_traces}");
}

#[test]
fn randomness_follows_opentelemetry_and_the_decision_carries_its_threshold() {
    let mut sampler =
        Sampler::new(&policy(vec![sample_rule("r", "op", 0.5)], Action::Keep)).unwrap();
    // Low 56 bits 0x80000000000000 - 1: just under the threshold of rate 0.5.
    let below = b"000000000000000000007fffffffffff";
    let mut span = view(below, b"s", "op");
    let decision = sampler.decide(&span);
    assert!(!decision.keep);
    assert_eq!(decision.threshold, 1 << 55);
    assert_eq!(
        consistent::encode_th(decision.threshold).unwrap().as_str(),
        "8"
    );
    // Binary bytes of the id with the top bit of its randomness set: kept.
    let mut binary = [0u8; 16];
    binary[9] = 0x80;
    span.trace_id = &binary;
    let decision = sampler.decide(&span);
    assert!(decision.keep);
    assert_eq!(decision.adjusted_count, 2.0);
    // An explicit rv beats the trace id; a malformed one is ignored and counted.
    span.trace_state = "ot=rv:00000000000000";
    assert!(!sampler.decide(&span).keep);
    span.trace_state = "ot=rv:0000000000000X";
    assert!(sampler.decide(&span).keep);
    assert_eq!(sampler.report().malformed_rv, 1);
    assert!(sampler.report().to_string().contains("1 malformed rv"));
}
