//! Faults that raise no error flag must still be kept by the latency override.
//!
//! The fixture in `testdata/traces/delays/` is healthy SkyWalking traffic made by
//! [`healthy_fixture`] (`healthy.csv`), the same traffic with delays injected by
//! `autoscope_replay::faults` (`delayed.csv`, `faults.tsv`; `autoscope inject delay`
//! writes the same bytes), and a policy sampling
//! everything at 1% (`policy.json`), so that only the overrides keep the delayed spans.
//! After an intended change, regenerate with
//! `UPDATE_FIXTURES=1 cargo test -p autoscope-replay --test latency_faults` and review the diff.

use anyhow::{Context, Result};
use autoscope_replay::faults::{
    Fault, FaultConfig, FaultKind, faults_file_text, faults_tsv, inject, parse_faults,
};
use runtime_sampler::{KeepReason, OverrideKind};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/traces/delays")
}

/// The settings `delayed.csv` was made with: the first 20 traces stay healthy so that
/// every window is warm (the policy's `min_samples` is 16).
const FIXTURE_CONFIG: FaultConfig = FaultConfig {
    kind: FaultKind::Delay,
    window: None,
    share: 0.1,
    factor: 5.0,
    // Seed 3 delays 6 of the 60 traces after the warm-up (seed 1 only 2: chance).
    seed: 3,
    warm_up: 20,
};

/// Healthy spans the latency override may keep on the fixture. Measured: 3, the spans
/// of trace 50's pause (price entry, the call to it, the root), genuine outliers; the
/// margin allows a little jitter from a change of the window's settings, not a flood.
const MAX_HEALTHY_BY_LATENCY: usize = 5;

/// Small deterministic jitter in `0..modulus` for trace `trace` and slot `slot`.
fn jitter(trace: u64, slot: u64, modulus: u64) -> u64 {
    (trace * 7 + slot * 13 + (trace * trace) % 11) % modulus
}

/// 80 traces of an order service that reads MongoDB and calls a price service, which
/// reads MongoDB too: five spans each, durations of a few milliseconds with jitter, and
/// in trace 50 a 30 ms pause of the price service (a healthy outlier).
fn healthy_fixture() -> String {
    let mut out = String::from(trace_formats::SKYWALKING_HEADER);
    out.push('\n');
    for t in 0..80u64 {
        let start = 1_700_000_000_000 + t * 1_000;
        let trace_id = format!("fa11.{t}.17000000000000001");
        let order = format!("fa11.{t}.1700000000000000");
        let price = format!("be7a.{t}.1700000000000000");
        let pause = if t == 50 { 30 } else { 0 };
        let order_mongo = 4 + jitter(t, 1, 5);
        let price_mongo = 3 + jitter(t, 2, 4);
        let price_entry = price_mongo + 2 + jitter(t, 3, 3) + pause;
        let http_exit = price_entry + 2;
        let root = 1 + order_mongo + 1 + http_exit + 1 + jitter(t, 4, 3);
        let mongo_at = start + 1;
        let http_at = mongo_at + order_mongo + 1;
        let mut row = |from: u64,
                       took: u64,
                       url: &str,
                       kind: &str,
                       service: &str,
                       id: &str,
                       peer: &str,
                       parent: &str,
                       component: &str| {
            out.push_str(&format!(
                "{from},{},{url},{kind},{service},{id},{trace_id},{peer},{parent},{component},False\n",
                from + took
            ));
        };
        let order_root = format!("{order}.0");
        let order_call = format!("{order}.2");
        let price_root = format!("{price}.0");
        row(
            start,
            root,
            "{POST}/api/v1/orderservice/orders",
            "Entry",
            "ts-order-service",
            &order_root,
            "ts-order-service",
            "-1",
            "SpringMVC",
        );
        row(
            mongo_at,
            order_mongo,
            "MongoDB/FindOperation",
            "Exit",
            "ts-order-service",
            &format!("{order}.1"),
            "ts-order-mongo",
            &order_root,
            "mongodb-driver",
        );
        row(
            http_at,
            http_exit,
            "/api/v1/priceservice/prices/G1234",
            "Exit",
            "ts-order-service",
            &order_call,
            "ts-price-service",
            &order_root,
            "SpringRestTemplate",
        );
        row(
            http_at + 1,
            price_entry,
            "{GET}/api/v1/priceservice/prices/{trainNumber}",
            "Entry",
            "ts-price-service",
            &price_root,
            "ts-price-service",
            &order_call,
            "SpringMVC",
        );
        row(
            http_at + 2,
            price_mongo,
            "MongoDB/FindOperation",
            "Exit",
            "ts-price-service",
            &format!("{price}.1"),
            "ts-price-mongo",
            &price_root,
            "mongodb-driver",
        );
    }
    out
}

/// Compares `actual` with the fixture file `name`, or rewrites it under
/// `UPDATE_FIXTURES=1`.
fn check_fixture(name: &str, actual: &[u8]) {
    let path = fixture_dir().join(name);
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_FIXTURES=1 writes it)", path.display()));
    assert!(
        expected == actual,
        "{} differs from what the test makes (UPDATE_FIXTURES=1 rewrites it; review the diff)",
        path.display()
    );
}

fn read_fixture(name: &str) -> Vec<u8> {
    let path = fixture_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn fixture_faults() -> Vec<Fault> {
    let text = String::from_utf8(read_fixture("faults.tsv")).unwrap();
    parse_faults(&text, "faults.tsv").unwrap()
}

#[test]
fn healthy_fixture_is_what_the_helper_makes() {
    check_fixture("healthy.csv", healthy_fixture().as_bytes());
}

#[test]
fn injector_reproduces_the_committed_delays() {
    let healthy = healthy_fixture();
    let injected = inject(healthy.as_bytes(), &FIXTURE_CONFIG, "healthy.csv").unwrap();
    check_fixture("delayed.csv", &injected.output);
    check_fixture(
        "faults.tsv",
        faults_file_text(&injected.faults, &FIXTURE_CONFIG).as_bytes(),
    );
    // A handful of faults, each in its own trace, none among the warm-up traces.
    assert!(
        (4..=12).contains(&injected.faults.len()),
        "{}",
        injected.faults.len()
    );
    let mut traces: Vec<&str> = injected
        .faults
        .iter()
        .map(|f| f.trace_id.as_str())
        .collect();
    traces.dedup();
    assert_eq!(traces.len(), injected.faults.len());
    for fault in &injected.faults {
        let number: u64 = fault.trace_id.split('.').nth(1).unwrap().parse().unwrap();
        assert!(number >= 20, "{fault:?} is in a warm-up trace");
    }
}

#[test]
fn injector_is_deterministic_and_the_seed_matters() {
    let healthy = healthy_fixture();
    // No warm-up: which traces it spares depends on the row order.
    let config = FaultConfig {
        share: 0.3,
        warm_up: 0,
        ..FIXTURE_CONFIG
    };
    let first = inject(healthy.as_bytes(), &config, "h").unwrap();
    let again = inject(healthy.as_bytes(), &config, "h").unwrap();
    assert_eq!(first, again);
    let other = inject(
        healthy.as_bytes(),
        &FaultConfig {
            seed: 2,
            ..config.clone()
        },
        "h",
    )
    .unwrap();
    assert_ne!(first.faults, other.faults);
    // Reordering the rows changes neither the choice of traces nor of spans.
    let mut lines: Vec<&str> = healthy.lines().collect();
    lines[1..].reverse();
    let reversed = lines.join("\n") + "\n";
    let from_reversed = inject(reversed.as_bytes(), &config, "h").unwrap();
    assert_eq!(from_reversed.faults, first.faults);
}

#[test]
fn share_zero_changes_nothing_and_share_one_delays_every_trace() {
    let healthy = healthy_fixture();
    let none = inject(
        healthy.as_bytes(),
        &FaultConfig {
            share: 0.0,
            ..FIXTURE_CONFIG
        },
        "h",
    );
    let none = none.unwrap();
    assert_eq!(none.output, healthy.as_bytes());
    assert!(none.faults.is_empty());
    let all = FaultConfig {
        share: 1.0,
        warm_up: 0,
        ..FIXTURE_CONFIG
    };
    let all = inject(healthy.as_bytes(), &all, "h").unwrap();
    assert_eq!(all.faults.len(), 80);
    // Always a leaf Exit span: one of the two MongoDB calls (span ids `.1`).
    assert!(all.faults.iter().all(|f| f.span_id.ends_with(".1")));
}

/// The delayed file re-reads as the same spans with only end times moved: the delayed
/// span's duration is `max(d, 1 ms) * factor`, its ancestors end later by the same delta.
#[test]
fn delayed_output_rereads_with_only_end_times_changed() {
    let healthy_text = healthy_fixture();
    let delayed_bytes = read_fixture("delayed.csv");
    let healthy = trace_formats::read(healthy_text.as_bytes(), "healthy.csv").unwrap();
    let delayed = trace_formats::read(&delayed_bytes, "delayed.csv").unwrap();
    let faults = fixture_faults();
    let groups = autoscope_replay::apply::TraceGroups::of(&delayed.spans);
    let roles = fault_roles(&delayed, &groups, &faults);
    assert_eq!(healthy.spans.len(), delayed.spans.len());
    assert_eq!(
        roles.iter().filter(|r| **r == Role::Delayed).count(),
        faults.len()
    );
    for (index, (before, after)) in healthy.spans.iter().zip(&delayed.spans).enumerate() {
        let mut moved_back = after.clone();
        moved_back.end_time_unix_nano = before.end_time_unix_nano;
        assert_eq!(
            &moved_back, before,
            "span {index} changed beyond its end time"
        );
        let grew = after.end_time_unix_nano - before.end_time_unix_nano;
        match roles[index] {
            Role::Healthy => assert_eq!(grew, 0, "healthy span {index} moved"),
            Role::Delayed => {
                let was = before.duration_nanos().max(1_000_000);
                assert_eq!(after.duration_nanos(), was * 5, "span {index}");
            }
            Role::Ancestor => assert!(grew > 0, "ancestor {index} did not grow"),
        }
    }
    // Each ancestor grew by its trace's delta: the root still contains everything.
    for trace in &groups.traces {
        let delta: Vec<u64> = trace
            .iter()
            .filter(|&&i| roles[i] != Role::Healthy)
            .map(|&i| delayed.spans[i].end_time_unix_nano - healthy.spans[i].end_time_unix_nano)
            .collect();
        assert!(delta.windows(2).all(|w| w[0] == w[1]), "{delta:?}");
    }
    // Byte for byte: lines differ only in the EndTime column.
    for (before, after) in healthy_text
        .lines()
        .zip(String::from_utf8(delayed_bytes).unwrap().lines())
    {
        let (b, a): (Vec<&str>, Vec<&str>) =
            (before.split(',').collect(), after.split(',').collect());
        assert_eq!(b.len(), a.len());
        for column in (0..b.len()).filter(|&c| c != 1) {
            assert_eq!(b[column], a[column]);
        }
    }
}

fn load_policy(text_edit: impl FnOnce(String) -> String) -> policy_schema::Policy {
    let text = String::from_utf8(read_fixture("policy.json")).unwrap();
    policy_schema::from_json_str(&text_edit(text)).unwrap()
}

#[test]
fn every_delayed_span_is_kept_with_its_ancestors() {
    let delayed = trace_formats::read(&read_fixture("delayed.csv"), "delayed.csv").unwrap();
    let faults = fixture_faults();
    let policy = load_policy(|t| t);
    assert_eq!(
        policy.structure.mode,
        policy_schema::StructureMode::KeepAncestors
    );
    let (groups, sampled) = sample(&policy, &delayed).unwrap();
    let roles = fault_roles(&delayed, &groups, &faults);
    for (index, role) in roles.iter().enumerate() {
        let outcome = sampled.outcomes[index].unwrap();
        match role {
            Role::Delayed => {
                // Kept by its own decision: the override (or, rarely, the 1% rule).
                assert!(outcome.decision.keep, "delayed span {index} dropped");
                assert!(matches!(
                    outcome.kept,
                    Some(KeepReason::Latency | KeepReason::Rule)
                ));
            }
            Role::Ancestor => assert!(outcome.kept.is_some(), "ancestor {index} dropped"),
            Role::Healthy => {}
        }
    }
    let c = coverage(&delayed, &groups, &sampled, &faults);
    assert_eq!(c.delayed, faults.len());
    assert_eq!(c.delayed_kept, faults.len());
    assert_eq!(c.delayed_traces_visible, c.delayed_traces);
    assert!(c.delayed_by_latency >= faults.len() - 1, "{c:?}");
    assert!(
        c.healthy_by_latency <= MAX_HEALTHY_BY_LATENCY,
        "{} healthy spans kept by the latency override: {c:?}",
        c.healthy_by_latency
    );
    // Sampling at 1% keeps little besides: the faults are what survives.
    assert!(c.kept < c.spans / 5, "{c:?}");
}

#[test]
fn without_the_latency_override_the_delays_are_lost() {
    let delayed = trace_formats::read(&read_fixture("delayed.csv"), "delayed.csv").unwrap();
    let faults = fixture_faults();
    let policy = load_policy(|t| {
        let mut json: serde_json::Value = serde_json::from_str(&t).unwrap();
        json["overrides"].as_object_mut().unwrap().remove("latency");
        json.to_string()
    });
    assert!(policy.overrides.latency.is_none());
    let (groups, sampled) = sample(&policy, &delayed).unwrap();
    let c = coverage(&delayed, &groups, &sampled, &faults);
    assert!(c.delayed_kept <= 1, "{c:?}");
    assert_eq!(c.latency_kept, 0);
}

#[test]
fn injector_keeps_csv_quirks_byte_for_byte() {
    let input = "StartTime,EndTime,URL,SpanType,Service,SpanId,TraceId,Peer,ParentSpan,Component,IsError\r\n\
        10,20,\"{GET}/a,b\",Entry,svc,s.0,t1,svc,-1,SpringMVC,False\r\n\
        \r\n\
        11,12,\"/x \"\"y\"\"\",Exit,svc,s.1,t1,db,s.0,mongodb-driver,False\r\n\
        12,12,local,Local,svc,s.2,t1,,s.0,,False";
    let config = FaultConfig {
        share: 1.0,
        factor: 3.0,
        seed: 7,
        warm_up: 0,
        ..FaultConfig::delay()
    };
    let injected = inject(input.as_bytes(), &config, "quirks.csv").unwrap();
    // The leaf Exit s.1 (1 ms) becomes 3 ms; the root ends 2 ms later.
    let expected = input
        .replace("10,20,", "10,22,")
        .replace("11,12,", "11,14,");
    assert_eq!(
        String::from_utf8(injected.output.clone()).unwrap(),
        expected
    );
    assert_eq!(
        faults_tsv(&injected.faults, &[]),
        "trace_id\tspan_id\tservice\nt1\ts.1\tsvc\n"
    );
    assert_eq!(injected.changed_rows, 2);
}

#[test]
fn bad_input_is_an_error_naming_file_and_line() {
    let header = trace_formats::SKYWALKING_HEADER;
    let cases = [
        ("", "empty.csv: empty file"),
        (
            "a,b\n1,2\n",
            "x.csv:1: no column \"TraceId\" or \"TraceID\"",
        ),
        (
            &*format!("{header}\n1,x,u,Exit,s,1,t,p,-1,c,False\n"),
            "x.csv:2: EndTime \"x\"",
        ),
        (
            &*format!("{header}\n1,2,\"u,Exit\n"),
            "x.csv:2: a quoted field is never closed",
        ),
        (
            &*format!("{header}\n\n1,2,u\n"),
            "x.csv:3: 3 fields where the header has 11",
        ),
    ];
    for (input, message) in cases {
        let origin = if input.is_empty() {
            "empty.csv"
        } else {
            "x.csv"
        };
        let error = inject(input.as_bytes(), &FIXTURE_CONFIG, origin).unwrap_err();
        assert!(
            error.to_string().starts_with(message),
            "{error:#} for {input:?}"
        );
    }
    let bad_share = FaultConfig {
        share: 1.5,
        ..FIXTURE_CONFIG
    };
    assert!(inject(b"", &bad_share, "x").is_err());
    let error = parse_faults("t1\ts1\tsvc\nonly-one\n", "f.txt").unwrap_err();
    assert!(error.to_string().starts_with("f.txt:2:"), "{error}");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// For any settings: one fault per delayed trace, none in the warm-up, only
        /// EndTime fields change and only grow, and the output re-reads.
        #[test]
        fn injection_only_moves_end_times_forward(
            share in 0.0..=1.0f64,
            factor in 1.0..20.0f64,
            seed in any::<u64>(),
            warm_up in 0usize..90,
        ) {
            let healthy = healthy_fixture();
            let config = FaultConfig { share, factor, seed, warm_up, ..FaultConfig::delay() };
            let injected = inject(healthy.as_bytes(), &config, "h").unwrap();
            let mut traces: Vec<&str> = injected.faults.iter().map(|f| f.trace_id.as_str()).collect();
            traces.dedup();
            prop_assert_eq!(traces.len(), injected.faults.len());
            for fault in &injected.faults {
                let number: usize = fault.trace_id.split('.').nth(1).unwrap().parse().unwrap();
                prop_assert!(number >= warm_up);
            }
            let output = String::from_utf8(injected.output.clone()).unwrap();
            for (before, after) in healthy.lines().zip(output.lines()) {
                let (b, a): (Vec<&str>, Vec<&str>) = (before.split(',').collect(), after.split(',').collect());
                prop_assert_eq!(b.len(), a.len());
                for column in 0..b.len() {
                    if column == 1 && b[0] != "StartTime" {
                        prop_assert!(a[1].parse::<u64>().unwrap() >= b[1].parse::<u64>().unwrap());
                    } else {
                        prop_assert_eq!(b[column], a[column]);
                    }
                }
            }
            prop_assert!(trace_formats::read(&injected.output, "h").is_ok());
        }
    }
}

/// The measurement's categories are exclusive and add up.
#[test]
fn coverage_counts_add_up() {
    let delayed = trace_formats::read(&read_fixture("delayed.csv"), "delayed.csv").unwrap();
    let faults = fixture_faults();
    let (groups, sampled) = sample(&load_policy(|t| t), &delayed).unwrap();
    let c = coverage(&delayed, &groups, &sampled, &faults);
    let fired = sampled
        .outcomes
        .iter()
        .filter(|o| o.is_some_and(|o| o.decision.override_fired == Some(OverrideKind::Latency)))
        .count();
    assert_eq!(c.latency_kept, fired);
    assert_eq!(
        c.latency_kept,
        c.delayed_by_latency + c.ancestors_by_latency + c.healthy_by_latency
    );
    assert_eq!(c.delayed, c.delayed_kept + c.missed.len());
}

// The measurement of what a policy keeps of the delayed spans, with the latency
// override's share of it.

/// What a policy kept of the delayed spans of a document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Spans in the document.
    pub spans: usize,
    /// Spans kept, for any reason.
    pub kept: usize,
    /// Listed delayed spans found in the document.
    pub delayed: usize,
    /// Delayed spans kept (for any reason).
    pub delayed_kept: usize,
    /// Delayed spans kept by the latency override.
    pub delayed_by_latency: usize,
    /// Traces holding a delayed span.
    pub delayed_traces: usize,
    /// Of those, traces with at least one kept span.
    pub delayed_traces_visible: usize,
    /// Ancestors of delayed spans (longer too) kept by the latency override.
    pub ancestors_by_latency: usize,
    /// Every span the latency override kept.
    pub latency_kept: usize,
    /// Spans the latency override kept that are neither delayed nor an ancestor of a
    /// delayed span: false positives.
    pub healthy_by_latency: usize,
    /// Of the delayed spans, the document indices of those not kept.
    pub missed: Vec<usize>,
}

/// Per span of a sampled document: is it delayed, an ancestor of a delayed span, or
/// neither.
pub fn fault_roles(
    doc: &trace_formats::TraceDocument,
    groups: &autoscope_replay::apply::TraceGroups,
    faults: &[Fault],
) -> Vec<Role> {
    let listed: BTreeSet<(&[u8], &[u8])> = faults
        .iter()
        .map(|f| (f.trace_id.as_bytes(), f.span_id.as_bytes()))
        .collect();
    let mut roles = vec![Role::Healthy; doc.spans.len()];
    for trace in &groups.traces {
        let mut by_id: HashMap<&[u8], usize> = HashMap::new();
        for &i in trace {
            by_id.entry(doc.spans[i].span_id.as_slice()).or_insert(i);
        }
        for &i in trace {
            let span = &doc.spans[i];
            if !listed.contains(&(span.trace_id.as_slice(), span.span_id.as_slice())) {
                continue;
            }
            roles[i] = Role::Delayed;
            let mut seen = BTreeSet::from([i]);
            let mut at = by_id.get(span.parent_span_id.as_slice()).copied();
            while let Some(p) = at {
                if !seen.insert(p) {
                    break;
                }
                if roles[p] == Role::Healthy {
                    roles[p] = Role::Ancestor;
                }
                at = by_id.get(doc.spans[p].parent_span_id.as_slice()).copied();
            }
        }
    }
    roles
}

/// A span's part in the injected faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Untouched and not containing a delayed span.
    Healthy,
    /// A delayed span.
    Delayed,
    /// An ancestor of a delayed span (its end moved).
    Ancestor,
}

/// Counts what `sampled` kept of the delayed spans.
pub fn coverage(
    doc: &trace_formats::TraceDocument,
    groups: &autoscope_replay::apply::TraceGroups,
    sampled: &autoscope_replay::apply::Sampled,
    faults: &[Fault],
) -> Coverage {
    use runtime_sampler::OverrideKind;
    let roles = fault_roles(doc, groups, faults);
    let mut c = Coverage {
        spans: doc.spans.len(),
        kept: sampled.kept.len(),
        ..Coverage::default()
    };
    for trace in &groups.traces {
        let delayed = trace.iter().any(|&i| roles[i] == Role::Delayed);
        c.delayed_traces += usize::from(delayed);
        c.delayed_traces_visible +=
            usize::from(delayed && trace.iter().any(|&i| sampled.is_kept(i)));
    }
    for (i, role) in roles.iter().enumerate() {
        let by_latency = sampled.outcomes[i]
            .is_some_and(|o| o.decision.override_fired == Some(OverrideKind::Latency));
        c.latency_kept += usize::from(by_latency);
        match role {
            Role::Delayed => {
                c.delayed += 1;
                c.delayed_by_latency += usize::from(by_latency);
                if sampled.is_kept(i) {
                    c.delayed_kept += 1;
                } else {
                    c.missed.push(i);
                }
            }
            Role::Ancestor => c.ancestors_by_latency += usize::from(by_latency),
            Role::Healthy => c.healthy_by_latency += usize::from(by_latency),
        }
    }
    c
}

/// Samples `doc` with `policy` as `autoscope sample` does.
pub fn sample(
    policy: &policy_schema::Policy,
    doc: &trace_formats::TraceDocument,
) -> Result<(
    autoscope_replay::apply::TraceGroups,
    autoscope_replay::apply::Sampled,
)> {
    let mut sampler = runtime_sampler::Sampler::new(policy).context("cannot compile the policy")?;
    let groups = autoscope_replay::apply::TraceGroups::of(&doc.spans);
    let sampled = autoscope_replay::apply::sample_document(&mut sampler, doc, &groups);
    Ok((groups, sampled))
}
