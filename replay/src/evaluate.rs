//! Measuring a sampling method on a trace document: spans and bytes kept, error-span and
//! error-trace coverage, trace visibility and ancestor integrity — for the policy and,
//! computed on the same data, for head and tail sampling.
//!
//! Bytes are those of the output the method would write in the input's own format
//! (the same writer as `autoscope sample`), against the whole document written by that
//! writer, so formats compare like with like.

use crate::apply::TraceGroups;
use ahash::AHashMap;
use runtime_sampler::consistent::{keeps, threshold, trace_randomness};
use serde::Serialize;
use std::io::{self, Write};
use trace_formats::{KeptSpan, TraceDocument, WriteError};

/// A sampling method's keep decision per span of a document.
#[derive(Debug, Clone)]
pub struct Selection {
    /// Method name, e.g. `policy`, `head 1%`.
    pub method: String,
    /// Spans to write, in document order.
    pub kept: Vec<KeptSpan>,
}

/// Head sampling at `rate`: each trace kept whole or dropped whole, by the same
/// consistent hash of the trace id the runtime sampler uses.
pub fn head_sampling(doc: &TraceDocument, groups: &TraceGroups, rate: f64) -> Selection {
    let limit = threshold(rate);
    select_traces(groups, format!("head {}%", percent(rate)), |trace| {
        keeps(trace_randomness(&doc.spans[trace[0]].trace_id), limit)
    })
}

/// Tail sampling: every trace with an error span, plus `rate` of the rest.
pub fn tail_sampling(doc: &TraceDocument, groups: &TraceGroups, rate: f64) -> Selection {
    let limit = threshold(rate);
    let name = format!("tail (errors + {}%)", percent(rate));
    select_traces(groups, name, |trace| {
        trace.iter().any(|&i| doc.spans[i].is_error())
            || keeps(trace_randomness(&doc.spans[trace[0]].trace_id), limit)
    })
}

/// The OpenTelemetry Collector `tail_sampling` processor's `latency` policy, as its
/// README defines it ("the duration is determined by looking at the earliest start time
/// and latest end time, without taking into consideration what happened in between")
/// and `internal/sampling/latency.go` computes it: over the trace's spans in order, a
/// running earliest start and latest end (a 0 timestamp counts as unset, as there); the
/// trace is kept as soon as the duration so far, in whole milliseconds (truncated, Go's
/// `Duration.Milliseconds`), is `>= threshold_ms`, or, with an `upper_threshold_ms`
/// (0: none), lies in `(threshold_ms, upper_threshold_ms]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LatencyPolicy {
    /// `threshold_ms`.
    pub threshold_ms: i64,
    /// `upper_threshold_ms`; 0 for none.
    pub upper_threshold_ms: i64,
}

impl LatencyPolicy {
    /// Whether the policy samples a trace whose spans have these (start, end) times in
    /// nanoseconds, in the order the processor sees them.
    pub fn keeps(&self, times: impl IntoIterator<Item = (u64, u64)>) -> bool {
        let (mut min_time, mut max_time) = (0u64, 0u64);
        times.into_iter().any(|(start, end)| {
            if min_time == 0 || start < min_time {
                min_time = start;
            }
            if max_time == 0 || end > max_time {
                max_time = end;
            }
            let millis = trace_millis(min_time, max_time);
            if self.upper_threshold_ms == 0 {
                millis >= self.threshold_ms
            } else {
                self.threshold_ms < millis && millis <= self.upper_threshold_ms
            }
        })
    }
}

/// `max − min` nanoseconds in whole milliseconds, truncated toward zero.
fn trace_millis(min: u64, max: u64) -> i64 {
    let nanos = i128::from(max) - i128::from(min);
    i64::try_from(nanos / 1_000_000).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX })
}

/// A trace's duration as the `latency` policy sees it (whole milliseconds).
pub fn trace_duration_ms(doc: &TraceDocument, trace: &[usize]) -> i64 {
    let min = trace
        .iter()
        .map(|&i| doc.spans[i].start_time_unix_nano)
        .min()
        .unwrap_or(0);
    let max = trace
        .iter()
        .map(|&i| doc.spans[i].end_time_unix_nano)
        .max()
        .unwrap_or(0);
    trace_millis(min, max)
}

/// Tail sampling with the Collector's `latency` policy alone.
pub fn tail_latency(doc: &TraceDocument, groups: &TraceGroups, policy: LatencyPolicy) -> Selection {
    select_traces(groups, "tail latency".into(), |trace| {
        policy.keeps(trace.iter().map(|&i| {
            let span = &doc.spans[i];
            (span.start_time_unix_nano, span.end_time_unix_nano)
        }))
    })
}

/// The `threshold_ms` (no upper bound) whose kept spans come nearest to `target_spans`,
/// given each trace's (duration in ms, span count): thresholds at each trace's duration
/// and one above the longest (keeping nothing) are tried; of equally near ones the
/// highest wins (it keeps less).
pub fn latency_threshold_for_volume(traces: &[(i64, usize)], target_spans: usize) -> i64 {
    let mut by_duration: Vec<(i64, usize)> = traces.to_vec();
    by_duration.sort_unstable_by_key(|t| std::cmp::Reverse(t.0));
    let longest = by_duration.first().map_or(0, |t| t.0);
    // Keeping nothing: a threshold above every trace.
    let mut best = (target_spans, longest.saturating_add(1));
    let mut kept = 0usize;
    let mut at = 0;
    while at < by_duration.len() {
        let duration = by_duration[at].0;
        // Every trace this long is kept at this threshold.
        while at < by_duration.len() && by_duration[at].0 == duration {
            kept += by_duration[at].1;
            at += 1;
        }
        let distance = kept.abs_diff(target_spans);
        if distance < best.0 {
            best = (distance, duration);
        }
    }
    best.1
}

/// Tail sampling with the `latency` policy at the threshold whose kept span volume is
/// nearest to `target_spans` (equal kept volume), and that threshold.
pub fn tail_latency_at_volume(
    doc: &TraceDocument,
    groups: &TraceGroups,
    target_spans: usize,
) -> (Selection, LatencyPolicy) {
    let traces: Vec<(i64, usize)> = groups
        .traces
        .iter()
        .map(|trace| (trace_duration_ms(doc, trace), trace.len()))
        .collect();
    let policy = LatencyPolicy {
        threshold_ms: latency_threshold_for_volume(&traces, target_spans),
        upper_threshold_ms: 0,
    };
    (tail_latency(doc, groups, policy), policy)
}

/// Ancestor integrity of head mode: each span decided at its start alone (rule and
/// consistent sampling), then the end-of-span overrides, then the local ancestors an
/// SDK's span processor adds — what the SDK samplers do, with no trace buffered.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HeadIntegrity {
    /// Spans kept by their rule's head decision.
    pub rule_kept: u64,
    /// Of those, spans that are roots (or whose parent the input lacks) or whose parent
    /// was also kept by its own rule: the share a monotone policy makes 100%.
    pub rule_kept_with_rule_kept_parent: u64,
    /// Spans kept by the error override (dropped by their rule).
    pub error_kept: u64,
    /// Of those, spans with an ancestor not in the output: a caller in another service
    /// whose own span was dropped (local ancestors are kept by the processor).
    pub error_kept_missing_ancestor: u64,
    /// Spans kept by the latency override.
    pub latency_kept: u64,
    /// Spans added as local ancestors (same service) of kept spans.
    pub local_ancestors: u64,
    /// Kept spans (all reasons) whose parent is in the output or not in the input.
    pub kept_with_parent: u64,
    /// Kept spans, all reasons.
    pub kept: u64,
}

impl HeadIntegrity {
    /// Adds another document's counts.
    pub fn add(&mut self, other: &Self) {
        self.rule_kept += other.rule_kept;
        self.rule_kept_with_rule_kept_parent += other.rule_kept_with_rule_kept_parent;
        self.error_kept += other.error_kept;
        self.error_kept_missing_ancestor += other.error_kept_missing_ancestor;
        self.latency_kept += other.latency_kept;
        self.local_ancestors += other.local_ancestors;
        self.kept_with_parent += other.kept_with_parent;
        self.kept += other.kept;
    }

    /// Rule-kept spans whose parent its rule kept too / rule-kept spans.
    pub fn rule_parent_share(&self) -> f64 {
        ratio_or_one(self.rule_kept_with_rule_kept_parent, self.rule_kept)
    }

    /// Kept spans with their parent kept / kept spans.
    pub fn ancestor_integrity(&self) -> f64 {
        ratio_or_one(self.kept_with_parent, self.kept)
    }
}

/// Head mode (see [`HeadIntegrity`]): per span `Sampler::decide` in document order (rule,
/// consistent sampling, error and latency overrides; no structure pass), then each kept
/// span's chain of parents in its own service is kept, as the SDK processors do.
pub fn head_mode(
    sampler: &mut runtime_sampler::Sampler,
    doc: &TraceDocument,
    groups: &TraceGroups,
) -> (Selection, HeadIntegrity) {
    use runtime_sampler::OverrideKind;
    #[derive(Clone, Copy, PartialEq)]
    enum Why {
        Dropped,
        Rule,
        Error,
        Latency,
        Ancestor,
    }
    let attributes = crate::apply::ModelAttributes::of(&doc.spans);
    let mut why = vec![Why::Dropped; doc.spans.len()];
    for (i, span) in doc.spans.iter().enumerate() {
        let decision = sampler.decide(&crate::apply::view(span, &attributes[i]));
        why[i] = match (decision.keep, decision.override_fired) {
            (false, _) => Why::Dropped,
            (true, None) => Why::Rule,
            (true, Some(OverrideKind::Error)) => Why::Error,
            (true, Some(OverrideKind::Latency)) => Why::Latency,
        };
    }
    let mut stats = HeadIntegrity::default();
    let mut by_id: AHashMap<&[u8], usize> = AHashMap::new();
    let mut parent_of: Vec<Option<usize>> = vec![None; doc.spans.len()];
    for trace in &groups.traces {
        by_id.clear();
        for &j in trace {
            by_id.entry(doc.spans[j].span_id.as_slice()).or_insert(j);
        }
        for &j in trace {
            let span = &doc.spans[j];
            parent_of[j] = (!span.parent_span_id.is_empty())
                .then(|| by_id.get(span.parent_span_id.as_slice()).copied())
                .flatten()
                .filter(|&p| p != j);
        }
        for &j in trace {
            if why[j] == Why::Rule {
                stats.rule_kept += 1;
                let parent_ok = parent_of[j].is_none_or(|p| why[p] == Why::Rule);
                stats.rule_kept_with_rule_kept_parent += u64::from(parent_ok);
            }
        }
        // Local ancestors: up the chain while the parent is in the same service (a
        // bounded walk: at most the trace's length, so cycles end).
        for &j in trace {
            if matches!(why[j], Why::Dropped | Why::Ancestor) {
                continue;
            }
            let mut at = j;
            for _ in 0..trace.len() {
                let Some(p) = parent_of[at] else { break };
                if doc.spans[p].service_name() != doc.spans[at].service_name() {
                    break;
                }
                if why[p] == Why::Dropped {
                    why[p] = Why::Ancestor;
                    stats.local_ancestors += 1;
                }
                at = p;
            }
        }
        for &j in trace {
            match why[j] {
                Why::Dropped => continue,
                Why::Error => {
                    stats.error_kept += 1;
                    let mut at = j;
                    let mut missing = false;
                    for _ in 0..trace.len() {
                        let Some(p) = parent_of[at] else { break };
                        if why[p] == Why::Dropped {
                            missing = true;
                            break;
                        }
                        at = p;
                    }
                    stats.error_kept_missing_ancestor += u64::from(missing);
                }
                Why::Latency => stats.latency_kept += 1,
                Why::Rule | Why::Ancestor => {}
            }
            stats.kept += 1;
            stats.kept_with_parent +=
                u64::from(parent_of[j].is_none_or(|p| why[p] != Why::Dropped));
        }
    }
    let kept = (0..doc.spans.len())
        .filter(|&i| why[i] != Why::Dropped)
        .map(KeptSpan::unchanged)
        .collect();
    (
        Selection {
            method: "policy, head mode".into(),
            kept,
        },
        stats,
    )
}

fn percent(rate: f64) -> String {
    let p = rate * 100.0;
    if p.fract() == 0.0 {
        format!("{p:.0}")
    } else {
        format!("{p}")
    }
}

fn select_traces(
    groups: &TraceGroups,
    method: String,
    keep_trace: impl Fn(&[usize]) -> bool,
) -> Selection {
    let mut kept: Vec<KeptSpan> = groups
        .traces
        .iter()
        .filter(|trace| keep_trace(trace))
        .flatten()
        .map(|&i| KeptSpan::unchanged(i))
        .collect();
    kept.sort_by_key(|k| k.index);
    Selection { method, kept }
}

/// What a method kept of a document.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Metrics {
    /// Method name.
    pub method: String,
    /// Spans in.
    pub spans: u64,
    /// Spans kept.
    pub kept_spans: u64,
    /// Bytes of the whole document in its format.
    pub bytes_in: u64,
    /// Bytes of the kept spans in that format.
    pub bytes_out: u64,
    /// Error spans in.
    pub error_spans: u64,
    /// Error spans kept.
    pub kept_error_spans: u64,
    /// Traces with at least one error span.
    pub error_traces: u64,
    /// Error traces whose every error span is kept.
    pub covered_error_traces: u64,
    /// Traces.
    pub traces: u64,
    /// Traces with at least one kept span.
    pub visible_traces: u64,
    /// Kept spans whose original parent is kept, or that have none in the input (roots,
    /// and orphans whose parent the input never had).
    pub kept_with_parent: u64,
}

impl Metrics {
    /// Adds another document's counts (same method) into `self`.
    pub fn add(&mut self, other: &Metrics) {
        self.spans += other.spans;
        self.kept_spans += other.kept_spans;
        self.bytes_in += other.bytes_in;
        self.bytes_out += other.bytes_out;
        self.error_spans += other.error_spans;
        self.kept_error_spans += other.kept_error_spans;
        self.error_traces += other.error_traces;
        self.covered_error_traces += other.covered_error_traces;
        self.traces += other.traces;
        self.visible_traces += other.visible_traces;
        self.kept_with_parent += other.kept_with_parent;
    }

    /// 1 - kept / spans; `None` for an empty input (nothing was reduced).
    pub fn span_reduction(&self) -> Option<f64> {
        share(self.kept_spans, self.spans).map(|kept| 1.0 - kept)
    }
    /// 1 - bytes out / bytes in; `None` for an empty input.
    pub fn byte_reduction(&self) -> Option<f64> {
        share(self.bytes_out, self.bytes_in).map(|kept| 1.0 - kept)
    }
    /// Kept error spans / error spans; `None` when there are none (nothing to cover).
    pub fn error_span_coverage(&self) -> Option<f64> {
        share(self.kept_error_spans, self.error_spans)
    }
    /// Fully covered error traces / error traces; `None` when there are none.
    pub fn error_trace_coverage(&self) -> Option<f64> {
        share(self.covered_error_traces, self.error_traces)
    }
    /// Traces with a kept span / traces; `None` without traces.
    pub fn trace_visibility(&self) -> Option<f64> {
        share(self.visible_traces, self.traces)
    }
    /// Kept spans with their parent / kept spans; `None` when nothing is kept.
    pub fn ancestor_integrity(&self) -> Option<f64> {
        share(self.kept_with_parent, self.kept_spans)
    }
}

/// `a / b`, or `None` when `b` is 0: a share of nothing is not applicable, not 0 or 1.
pub fn share(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

fn ratio_or_one(a: u64, b: u64) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// Bytes of the whole document in its own format.
pub fn document_bytes(doc: &TraceDocument) -> Result<u64, WriteError> {
    let mut counter = CountingWriter::default();
    trace_formats::write_all(doc, &mut counter)?;
    Ok(counter.bytes)
}

/// Measures `selection` on `doc`; `bytes_in` from [`document_bytes`].
pub fn measure(
    doc: &TraceDocument,
    groups: &TraceGroups,
    selection: &Selection,
    bytes_in: u64,
) -> Result<Metrics, WriteError> {
    let mut counter = CountingWriter::default();
    trace_formats::write(doc, &selection.kept, &mut counter)?;
    let mut kept = vec![false; doc.spans.len()];
    for k in &selection.kept {
        kept[k.index] = true;
    }
    let mut metrics = Metrics {
        method: selection.method.clone(),
        spans: doc.spans.len() as u64,
        kept_spans: selection.kept.len() as u64,
        bytes_in,
        bytes_out: counter.bytes,
        traces: groups.traces.len() as u64,
        ..Metrics::default()
    };
    let mut by_id: AHashMap<&[u8], usize> = AHashMap::new();
    for trace in &groups.traces {
        // Only a kept span with a parent needs the span id index: most traces of a
        // sampled document have none, and hashing every span id was a hot spot.
        by_id.clear();
        let mut indexed = false;
        let (mut errors, mut kept_errors, mut visible) = (0u64, 0u64, false);
        for &i in trace {
            let span = &doc.spans[i];
            if span.is_error() {
                errors += 1;
                kept_errors += u64::from(kept[i]);
            }
            if kept[i] {
                visible = true;
                if !indexed && !span.parent_span_id.is_empty() {
                    for &j in trace {
                        by_id.entry(doc.spans[j].span_id.as_slice()).or_insert(j);
                    }
                    indexed = true;
                }
                let parent_ok = span.parent_span_id.is_empty()
                    || by_id
                        .get(span.parent_span_id.as_slice())
                        .is_none_or(|&p| kept[p]);
                metrics.kept_with_parent += u64::from(parent_ok);
            }
        }
        metrics.error_spans += errors;
        metrics.kept_error_spans += kept_errors;
        if errors > 0 {
            metrics.error_traces += 1;
            metrics.covered_error_traces += u64::from(kept_errors == errors);
        }
        metrics.visible_traces += u64::from(visible);
    }
    Ok(metrics)
}

/// Counts bytes written, storing nothing.
#[derive(Debug, Default)]
pub struct CountingWriter {
    /// Bytes so far.
    pub bytes: u64,
}

impl Write for CountingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use trace_formats::{Format, Resource, Span, Status, StatusCode};

    fn span(trace: &str, id: &str, parent: &str, error: bool) -> Span {
        Span {
            trace_id: trace.as_bytes().to_vec(),
            span_id: id.as_bytes().to_vec(),
            parent_span_id: parent.as_bytes().to_vec(),
            name: format!("op-{id}"),
            resource: Arc::new(Resource::for_service("svc")),
            status: Status {
                code: if error {
                    StatusCode::Error
                } else {
                    StatusCode::Unset
                },
                message: String::new(),
            },
            ..Span::default()
        }
    }

    #[test]
    fn tail_keeps_error_traces_whole_and_metrics_add_up() {
        let doc = TraceDocument::new(
            Format::OtlpJson,
            "test",
            vec![
                span("t1", "a", "", false),
                span("t1", "b", "a", true),
                span("t2", "c", "", false),
            ],
        );
        let groups = TraceGroups::of(&doc.spans);
        let tail = tail_sampling(&doc, &groups, 0.0);
        assert_eq!(
            tail.kept.iter().map(|k| k.index).collect::<Vec<_>>(),
            [0, 1]
        );
        let m = measure(&doc, &groups, &tail, 1000).unwrap();
        assert_eq!(
            (m.spans, m.kept_spans, m.traces, m.visible_traces),
            (3, 2, 2, 1)
        );
        assert_eq!(m.error_span_coverage(), Some(1.0));
        assert_eq!(m.ancestor_integrity(), Some(1.0));
        // A child kept without its parent breaks integrity.
        let orphaned = Selection {
            method: "x".into(),
            kept: vec![KeptSpan::unchanged(1)],
        };
        let m = measure(&doc, &groups, &orphaned, 1000).unwrap();
        assert_eq!(m.ancestor_integrity(), Some(0.0));
        // No error spans, no input: the shares are not applicable.
        let healthy =
            TraceDocument::new(Format::OtlpJson, "test", vec![span("t2", "c", "", false)]);
        let healthy_groups = TraceGroups::of(&healthy.spans);
        let m = measure(
            &healthy,
            &healthy_groups,
            &head_sampling(&healthy, &healthy_groups, 1.0),
            10,
        )
        .unwrap();
        assert_eq!(
            (m.error_span_coverage(), m.error_trace_coverage()),
            (None, None)
        );
        assert_eq!(m.span_reduction(), Some(0.0));
        let empty = Metrics::default();
        assert_eq!(
            (empty.span_reduction(), empty.byte_reduction()),
            (None, None)
        );
        assert_eq!(empty.ancestor_integrity(), None);
        let head = head_sampling(&doc, &groups, 0.0);
        assert!(head.kept.is_empty());
        let all = head_sampling(&doc, &groups, 1.0);
        assert_eq!(all.kept.len(), 3);
    }

    #[test]
    fn latency_policy_follows_the_collector() {
        let ms = |n: u64| n * 1_000_000;
        let lower = LatencyPolicy {
            threshold_ms: 10,
            upper_threshold_ms: 0,
        };
        // 9.999 ms truncates to 9: not kept; 10 ms is.
        assert!(!lower.keeps([(ms(1), ms(1) + 9_999_999)]));
        assert!(lower.keeps([(ms(1), ms(2)), (ms(3), ms(11))]));
        // Earliest start and latest end, whatever lies between.
        assert!(lower.keeps([(ms(5), ms(6)), (ms(1), ms(2)), (ms(10), ms(11))]));
        let band = LatencyPolicy {
            threshold_ms: 10,
            upper_threshold_ms: 20,
        };
        assert!(!band.keeps([(ms(0) + 1, ms(10) + 1)]), "10 is not above 10");
        assert!(band.keeps([(1, ms(15))]));
        assert!(!band.keeps([(1, ms(30))]));
        // As in the Collector, the condition is checked after each span: a prefix of
        // the trace in the band keeps it, though the whole trace is longer.
        assert!(band.keeps([(1, ms(15)), (1, ms(30))]));
        assert!(!band.keeps(std::iter::empty()));
    }

    #[test]
    fn latency_threshold_matches_the_volume() {
        // (duration ms, spans)
        let traces = [(5, 10), (50, 4), (20, 6), (20, 3), (100, 2)];
        // 6 spans: the 100 ms and 50 ms traces exactly.
        assert_eq!(latency_threshold_for_volume(&traces, 6), 50);
        // 15: 100 + 50 + both 20 ms traces (15 spans).
        assert_eq!(latency_threshold_for_volume(&traces, 15), 20);
        // 0 spans: above the longest trace.
        assert_eq!(latency_threshold_for_volume(&traces, 0), 101);
        // Everything.
        assert_eq!(latency_threshold_for_volume(&traces, 1000), 5);
        // 4 is as near to 2 (the 100 ms trace) as to 6: the higher threshold wins.
        assert_eq!(latency_threshold_for_volume(&traces, 4), 100);
        assert_eq!(latency_threshold_for_volume(&[], 3), 1);
        // The selection keeps what the threshold says.
        let mut spans = Vec::new();
        for (t, (duration, count)) in traces.iter().enumerate() {
            for s in 0..*count {
                let mut x = span(&format!("t{t}"), &format!("s{s}"), "", false);
                x.start_time_unix_nano = 1_000_000;
                x.end_time_unix_nano = 1_000_000 + *duration as u64 * 1_000_000;
                spans.push(x);
            }
        }
        let doc = TraceDocument::new(Format::OtlpJson, "test", spans);
        let groups = TraceGroups::of(&doc.spans);
        let (selection, policy) = tail_latency_at_volume(&doc, &groups, 15);
        assert_eq!(policy.threshold_ms, 20);
        assert_eq!(selection.kept.len(), 15);
    }

    #[test]
    fn head_mode_keeps_local_ancestors_and_counts_what_it_cannot() {
        // frontend: root -> call; backend: handler (child of call) -> query (error);
        // a rule keeps `op-keep` in backend whose frontend parent is dropped.
        let mut spans = vec![
            span("t1", "root", "", false),
            span("t1", "call", "root", false),
            span("t1", "handler", "call", false),
            span("t1", "query", "handler", true),
            span("t2", "r2", "", false),
            span("t2", "keep", "r2", false),
        ];
        let backend = Arc::new(Resource::for_service("backend"));
        for index in [2, 3, 5] {
            spans[index].resource = Arc::clone(&backend);
        }
        let doc = TraceDocument::new(Format::OtlpJson, "test", spans);
        let groups = TraceGroups::of(&doc.spans);
        let policy = policy_schema::from_json_str(
            r#"{"version": 2, "generator": {"tool": "t", "version": "0"}, "target_reduction": 0.5,
                "default_action": {"action": "sample", "rate": 0.0},
                "overrides": {"keep_errors": true},
                "rules": [{"id": "k", "match": [{"exact": "op-keep"}], "action": {"action": "keep"}}]}"#,
        )
        .unwrap();
        let mut sampler = runtime_sampler::Sampler::new(&policy).unwrap();
        let (selection, head) = head_mode(&mut sampler, &doc, &groups);
        let kept: Vec<usize> = selection.kept.iter().map(|k| k.index).collect();
        // The error span and its local parent; the rule-kept span alone.
        assert_eq!(kept, [2, 3, 5]);
        assert_eq!(head.rule_kept, 1);
        assert_eq!(head.rule_kept_with_rule_kept_parent, 0);
        assert_eq!(head.error_kept, 1);
        assert_eq!(head.error_kept_missing_ancestor, 1);
        assert_eq!(head.local_ancestors, 1);
        assert_eq!((head.kept_with_parent, head.kept), (1, 3));
    }
}
