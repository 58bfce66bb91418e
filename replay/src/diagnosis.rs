//! Diagnosis preserved: what a sampling method keeps of injected faults, and whether the
//! fault's service can still be found from what it keeps.
//!
//! The root-cause check ranks the services of one trace (`docs/faults.md`):
//!
//! 1. each visible span scores its duration's **robust z-score** against its baseline:
//!    `(duration − median) / max(MAD, 0.5 ms)`, where median and MAD (median absolute
//!    deviation) are those of its (service, name) over all spans of the traffic or, for a
//!    (service, name) seen fewer than [`MIN_NAME_SAMPLES`] times, of all the service's
//!    spans; 0.5 ms is the latency override's default spread floor
//!    ([`policy_schema::DEFAULT_MIN_SPREAD_MS`]), so the jitter of a 0–1 ms call in a
//!    whole-millisecond format is not an outlier;
//! 2. a service scores the highest z-score of its visible spans;
//! 3. services where an error starts (a visible error span with no visible error child)
//!    come first, then by score, highest first; of equal scores the service whose span
//!    lies deeper (more visible ancestors) first, then by name.
//!
//! A slow child makes its ancestors slow too, by the same time, but their durations
//! vary more, so their z-scores are lower: the fault's own spans rank first. A span's
//! score depends on its own duration only, never on which other spans are kept, so the
//! check on the kept spans differs from the check on all spans exactly where a method
//! dropped the spans that showed the fault.
//!
//! The baseline comes from all traffic, for every method alike: it stands for the
//! per-operation duration metrics a pipeline computes before sampling (the Collector's
//! span-metrics connector does), so the methods differ only in the spans they keep.
//!
//! Everything here works on one trace at a time ([`rank_services`], [`diagnose_trace`]),
//! so it also works when traces arrive one by one; [`BaselineBuilder`] takes traces one
//! by one too.

use crate::apply::TraceGroups;
use crate::faults::Fault;
use ahash::AHashMap;
use serde::Serialize;
use std::collections::BTreeSet;
use trace_formats::{Span, TraceDocument};

/// Below this many spans of a (service, name), its baseline is the service's.
pub const MIN_NAME_SAMPLES: usize = 5;

/// The smallest spread a z-score divides by, in nanoseconds.
const MIN_SPREAD_NANOS: f64 = policy_schema::DEFAULT_MIN_SPREAD_MS * 1e6;

/// Per span of one trace, the index of its parent in the same slice (`None` for roots,
/// parents not in the trace and a span naming itself).
fn parents(spans: &[&Span]) -> Vec<Option<usize>> {
    let mut by_id: AHashMap<&[u8], usize> = AHashMap::with_capacity(spans.len());
    for (i, span) in spans.iter().enumerate() {
        by_id.entry(span.span_id.as_slice()).or_insert(i);
    }
    spans
        .iter()
        .enumerate()
        .map(|(i, span)| {
            if span.parent_span_id.is_empty() {
                return None;
            }
            by_id
                .get(span.parent_span_id.as_slice())
                .copied()
                .filter(|&p| p != i)
        })
        .collect()
}

/// Per visible span, its nearest visible ancestor (a bounded walk: parent cycles end).
fn visible_parents(spans: &[&Span], visible: &[bool]) -> Vec<Option<usize>> {
    let parent = parents(spans);
    (0..spans.len())
        .map(|i| {
            if !visible[i] {
                return None;
            }
            let mut at = parent[i];
            for _ in 0..spans.len() {
                match at {
                    Some(p) if p == i => return None,
                    Some(p) if visible[p] => return Some(p),
                    Some(p) => at = parent[p],
                    None => return None,
                }
            }
            None
        })
        .collect()
}

/// Collects span durations of whole traces, then gives their medians and spreads.
#[derive(Debug, Default, Clone)]
pub struct BaselineBuilder {
    by_name: AHashMap<(String, String), Vec<u64>>,
}

impl BaselineBuilder {
    /// Adds one trace's spans (all of them: the baseline sees all traffic).
    pub fn add_trace(&mut self, spans: &[&Span]) {
        for span in spans {
            let key = (span.service_name().to_string(), span.name.clone());
            self.by_name
                .entry(key)
                .or_default()
                .push(span.duration_nanos());
        }
    }

    /// The medians and MADs.
    pub fn finish(self) -> Baseline {
        let mut by_service: AHashMap<String, Vec<u64>> = AHashMap::new();
        let mut by_name = AHashMap::with_capacity(self.by_name.len());
        for ((service, name), mut durations) in self.by_name {
            by_service
                .entry(service.clone())
                .or_default()
                .extend_from_slice(&durations);
            if durations.len() >= MIN_NAME_SAMPLES {
                by_name.insert((service, name), Expected::of(&mut durations));
            }
        }
        let by_service = by_service
            .into_iter()
            .map(|(service, mut durations)| (service, Expected::of(&mut durations)))
            .collect();
        Baseline {
            by_name,
            by_service,
        }
    }
}

/// The lower median (of an even count, the lower middle value: no averaging, so the
/// baseline is a duration that occurred).
fn median(values: &mut [u64]) -> u64 {
    if values.is_empty() {
        return 0;
    }
    let middle = (values.len() - 1) / 2;
    *values.select_nth_unstable(middle).1
}

/// A (service, name)'s usual duration: median and median absolute deviation, in ns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Expected {
    /// Median duration.
    pub median: u64,
    /// Median absolute deviation from it.
    pub mad: u64,
}

impl Expected {
    fn of(durations: &mut [u64]) -> Self {
        let median = median(durations);
        let mut deviations: Vec<u64> = durations.iter().map(|d| d.abs_diff(median)).collect();
        Self {
            median,
            mad: self::median(&mut deviations),
        }
    }

    /// The robust z-score of `duration`.
    pub fn score(&self, duration: u64) -> f64 {
        (duration as f64 - self.median as f64) / (self.mad as f64).max(MIN_SPREAD_NANOS)
    }
}

/// Median and MAD per (service, name), and per service for rare names.
#[derive(Debug, Default, Clone)]
pub struct Baseline {
    by_name: AHashMap<(String, String), Expected>,
    by_service: AHashMap<String, Expected>,
}

impl Baseline {
    /// The baseline of every trace of `doc`.
    pub fn of_document(doc: &TraceDocument, groups: &TraceGroups) -> Self {
        let mut builder = BaselineBuilder::default();
        let mut spans: Vec<&Span> = Vec::new();
        for trace in &groups.traces {
            spans.clear();
            spans.extend(trace.iter().map(|&i| &doc.spans[i]));
            builder.add_trace(&spans);
        }
        builder.finish()
    }

    /// The usual duration of a span of `service` named `name` (zero for a service
    /// never seen).
    pub fn expected(&self, service: &str, name: &str) -> Expected {
        // A tuple key needs owned strings to look up; a few per span ranked, no matter.
        self.by_name
            .get(&(service.to_string(), name.to_string()))
            .or_else(|| self.by_service.get(service))
            .copied()
            .unwrap_or_default()
    }
}

/// A service's place in one trace's ranking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceScore {
    /// The service.
    pub service: String,
    /// Whether an error starts in it (a visible error span with no visible error child).
    pub error_origin: bool,
    /// The highest robust z-score of its visible spans' durations.
    pub score: f64,
    /// Visible ancestors of the span with that score.
    pub depth: usize,
}

/// The services of one trace, most likely cause first (module documentation); only
/// `visible` spans count (one flag per span of `spans`).
pub fn rank_services(spans: &[&Span], visible: &[bool], baseline: &Baseline) -> Vec<ServiceScore> {
    assert_eq!(spans.len(), visible.len(), "one visibility per span");
    let parent = visible_parents(spans, visible);
    let mut error_child = vec![false; spans.len()];
    for (i, p) in parent.iter().enumerate() {
        if let Some(p) = *p
            && spans[i].is_error()
        {
            error_child[p] = true;
        }
    }
    let depth = |i: usize| {
        let mut depth = 0;
        let mut at = parent[i];
        while let Some(p) = at {
            depth += 1;
            if depth > spans.len() {
                break;
            }
            at = parent[p];
        }
        depth
    };
    let mut by_service: AHashMap<&str, ServiceScore> = AHashMap::new();
    for (i, span) in spans.iter().enumerate() {
        if !visible[i] {
            continue;
        }
        let service = span.service_name();
        let score = baseline
            .expected(service, &span.name)
            .score(span.duration_nanos());
        let entry = by_service.entry(service).or_insert_with(|| ServiceScore {
            service: service.to_string(),
            error_origin: false,
            score: f64::NEG_INFINITY,
            depth: 0,
        });
        entry.error_origin |= span.is_error() && !error_child[i];
        let span_depth = depth(i);
        if score > entry.score || (score == entry.score && span_depth > entry.depth) {
            entry.score = score;
            entry.depth = span_depth;
        }
    }
    let mut ranking: Vec<ServiceScore> = by_service.into_values().collect();
    ranking.sort_by(|a, b| {
        b.error_origin
            .cmp(&a.error_origin)
            .then(b.score.total_cmp(&a.score))
            .then(b.depth.cmp(&a.depth))
            .then_with(|| a.service.cmp(&b.service))
    });
    ranking
}

/// The 0-based rank of the best-placed fault service in one trace's ranking on its
/// `visible` spans; `None` when no fault service is ranked (none of its spans visible).
pub fn diagnose_trace(
    spans: &[&Span],
    visible: &[bool],
    fault_services: &BTreeSet<&str>,
    baseline: &Baseline,
) -> Option<usize> {
    rank_services(spans, visible, baseline)
        .iter()
        .position(|s| fault_services.contains(s.service.as_str()))
}

/// The faults of a faults file, looked up by (trace id, span id).
#[derive(Debug, Default, Clone)]
pub struct FaultSet {
    /// Trace id → span id → fault service.
    by_trace: AHashMap<Vec<u8>, AHashMap<Vec<u8>, String>>,
    len: usize,
}

impl FaultSet {
    /// The set of `faults`.
    pub fn new(faults: &[Fault]) -> Self {
        let mut by_trace: AHashMap<Vec<u8>, AHashMap<Vec<u8>, String>> = AHashMap::new();
        let mut len = 0;
        for f in faults {
            let spans = by_trace.entry(f.trace_id.as_bytes().to_vec()).or_default();
            len += usize::from(
                spans
                    .insert(f.span_id.as_bytes().to_vec(), f.service.clone())
                    .is_none(),
            );
        }
        Self { by_trace, len }
    }

    /// Faults listed.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether none is listed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The fault service of a span, if it is a listed fault.
    pub fn service_of(&self, span: &Span) -> Option<&str> {
        self.by_trace
            .get(span.trace_id.as_slice())?
            .get(span.span_id.as_slice())
            .map(String::as_str)
    }
}

/// The faulted traces of a document: per trace with a listed fault, its index in the
/// groups and its faulted spans (document indices, in trace order) with their services.
#[derive(Debug, Default, Clone)]
pub struct FaultedTraces {
    /// (trace index in [`TraceGroups::traces`], (faulted span index, fault service)).
    pub traces: Vec<(usize, Vec<(usize, String)>)>,
}

impl FaultedTraces {
    /// Finds the listed faults in `doc`.
    pub fn locate(doc: &TraceDocument, groups: &TraceGroups, faults: &FaultSet) -> Self {
        let mut traces = Vec::new();
        for (t, trace) in groups.traces.iter().enumerate() {
            let spans: Vec<(usize, String)> = trace
                .iter()
                .filter_map(|&i| {
                    faults
                        .service_of(&doc.spans[i])
                        .map(|service| (i, service.to_string()))
                })
                .collect();
            if !spans.is_empty() {
                traces.push((t, spans));
            }
        }
        Self { traces }
    }

    /// Faulted spans found.
    pub fn spans(&self) -> usize {
        self.traces.iter().map(|(_, s)| s.len()).sum()
    }
}

/// What a method kept of the faults, and how well the fault service is found from it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FaultMetrics {
    /// Faulted (slowed) spans in the input.
    pub faulted_spans: u64,
    /// Of those, spans kept.
    pub kept_faulted_spans: u64,
    /// Traces with a faulted span.
    pub faulted_traces: u64,
    /// Of those, traces with at least one kept span.
    pub visible_faulted_traces: u64,
    /// Faulted traces whose top-ranked service (on the kept spans) is a fault service.
    pub root_cause_top1: u64,
    /// Faulted traces with a fault service among the top three.
    pub root_cause_top3: u64,
}

impl FaultMetrics {
    /// Adds another document's counts.
    pub fn add(&mut self, other: &Self) {
        self.faulted_spans += other.faulted_spans;
        self.kept_faulted_spans += other.kept_faulted_spans;
        self.faulted_traces += other.faulted_traces;
        self.visible_faulted_traces += other.visible_faulted_traces;
        self.root_cause_top1 += other.root_cause_top1;
        self.root_cause_top3 += other.root_cause_top3;
    }

    /// Kept faulted spans / faulted spans; `None` without faults.
    pub fn slowed_span_coverage(&self) -> Option<f64> {
        crate::evaluate::share(self.kept_faulted_spans, self.faulted_spans)
    }

    /// Top-1 root-cause accuracy over the faulted traces; `None` without any.
    pub fn top1_accuracy(&self) -> Option<f64> {
        crate::evaluate::share(self.root_cause_top1, self.faulted_traces)
    }

    /// Top-3 root-cause accuracy over the faulted traces; `None` without any.
    pub fn top3_accuracy(&self) -> Option<f64> {
        crate::evaluate::share(self.root_cause_top3, self.faulted_traces)
    }
}

/// One trace's fault figures for one method: `spans` are the trace's spans, `kept` one
/// flag per span, `faults` the fault service of each span that is a listed fault (`None`
/// for the others). A trace without faults counts nothing; one with nothing kept is a
/// miss. This is what [`measure_faults`] adds up, for readers that go trace by trace.
pub fn measure_trace_faults(
    spans: &[&Span],
    kept: &[bool],
    faults: &[Option<&str>],
    baseline: &Baseline,
) -> FaultMetrics {
    let mut metrics = FaultMetrics::default();
    let services: BTreeSet<&str> = faults.iter().flatten().copied().collect();
    if services.is_empty() {
        return metrics;
    }
    metrics.faulted_traces = 1;
    for (fault, &kept) in faults.iter().zip(kept) {
        if fault.is_some() {
            metrics.faulted_spans += 1;
            metrics.kept_faulted_spans += u64::from(kept);
        }
    }
    if !kept.iter().any(|&k| k) {
        return metrics;
    }
    metrics.visible_faulted_traces = 1;
    if let Some(rank) = diagnose_trace(spans, kept, &services, baseline) {
        metrics.root_cause_top1 += u64::from(rank == 0);
        metrics.root_cause_top3 += u64::from(rank < 3);
    }
    metrics
}

/// Measures one method's kept spans (`kept`, one flag per span of `doc`) on the faulted
/// traces, trace by trace ([`measure_trace_faults`]).
pub fn measure_faults(
    doc: &TraceDocument,
    groups: &TraceGroups,
    faulted: &FaultedTraces,
    baseline: &Baseline,
    kept: &[bool],
) -> FaultMetrics {
    let mut metrics = FaultMetrics::default();
    let mut spans: Vec<&Span> = Vec::new();
    let mut visible: Vec<bool> = Vec::new();
    let mut faults: Vec<Option<&str>> = Vec::new();
    for (t, faulted_spans) in &faulted.traces {
        let trace = &groups.traces[*t];
        spans.clear();
        spans.extend(trace.iter().map(|&i| &doc.spans[i]));
        visible.clear();
        visible.extend(trace.iter().map(|&i| kept[i]));
        // Both lists are in trace order: one merge pass marks the faulted spans.
        faults.clear();
        let mut next = faulted_spans.iter().peekable();
        for &i in trace {
            faults.push(match next.peek() {
                Some((at, service)) if *at == i => {
                    next.next();
                    Some(service.as_str())
                }
                _ => None,
            });
        }
        metrics.add(&measure_trace_faults(&spans, &visible, &faults, baseline));
    }
    metrics
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use trace_formats::{Resource, Status, StatusCode};

    /// A span of `service` named `name`, times in milliseconds.
    fn span(id: &str, parent: &str, service: &str, name: &str, start: u64, end: u64) -> Span {
        Span {
            trace_id: b"t".to_vec(),
            span_id: id.as_bytes().to_vec(),
            parent_span_id: parent.as_bytes().to_vec(),
            name: name.into(),
            resource: Arc::new(Resource::for_service(service)),
            start_time_unix_nano: start * 1_000_000,
            end_time_unix_nano: end * 1_000_000,
            ..Span::default()
        }
    }

    /// front /a → back /b → db query of `query` ms; `jitter` lengthens /b by itself and
    /// /a by twice itself (ancestors vary more than their children).
    fn trace_of(query: u64, jitter: u64) -> Vec<Span> {
        let extra = query.saturating_sub(10);
        vec![
            span("a", "", "front", "/a", 0, 40 + extra + 2 * jitter),
            span("b", "a", "back", "/b", 5, 35 + extra + jitter),
            span("q", "b", "db", "query", 10, 10 + query),
        ]
    }

    fn trace(slow: u64) -> Vec<Span> {
        trace_of(slow.max(10), 0)
    }

    /// Nine healthy traces: the query 10 or 11 ms, /b 30–38 ms, /a 40–56 ms.
    fn baseline() -> Baseline {
        let mut builder = BaselineBuilder::default();
        for j in 0..9 {
            let healthy = trace_of(10 + j % 2, j);
            builder.add_trace(&healthy.iter().collect::<Vec<_>>());
        }
        builder.finish()
    }

    #[test]
    fn baselines_are_median_and_mad_per_name() {
        let base = baseline();
        // The query: five 10 ms, four 11 ms.
        assert_eq!(
            base.expected("db", "query"),
            Expected {
                median: 10_000_000,
                mad: 0
            }
        );
        // /b: 30 + j + (j % 2) over j in 0..9: 30, 32, 32, 34, 34, 36, 36, 38, 38.
        assert_eq!(base.expected("back", "/b").median, 34_000_000);
        assert_eq!(base.expected("back", "/b").mad, 2_000_000);
        // A MAD of 0 divides by the 0.5 ms floor.
        assert_eq!(base.expected("db", "query").score(12_000_000), 4.0);
    }

    #[test]
    fn a_slow_query_is_blamed_on_its_service_and_on_the_caller_when_dropped() {
        let base = baseline();
        let slow = trace(50);
        let refs: Vec<&Span> = slow.iter().collect();
        let ranking = rank_services(&refs, &[true; 3], &base);
        let order: Vec<&str> = ranking.iter().map(|s| s.service.as_str()).collect();
        // The query is 40 ms over a tight baseline; /b and /a grew as much over looser ones.
        assert_eq!(order, ["db", "back", "front"]);
        assert_eq!(ranking[0].score, 80.0);
        assert_eq!(ranking[0].depth, 2);
        let db = BTreeSet::from(["db"]);
        assert_eq!(diagnose_trace(&refs, &[true; 3], &db, &base), Some(0));
        // The query dropped: `back` is blamed, `db` not ranked.
        let without_query = [true, true, false];
        let order: Vec<String> = rank_services(&refs, &without_query, &base)
            .into_iter()
            .map(|s| s.service)
            .collect();
        assert_eq!(order, ["back", "front"]);
        assert_eq!(diagnose_trace(&refs, &without_query, &db, &base), None);
        // Dropping the middle span changes no score: scores are per span.
        let without_middle = rank_services(&refs, &[true, false, true], &base);
        assert_eq!(without_middle[0].service, "db");
        assert_eq!(without_middle[0].score, 80.0);
        assert_eq!(without_middle[0].depth, 1);
    }

    #[test]
    fn equal_scores_rank_the_deeper_span_first() {
        // A baseline with no spread at all: every span of the slow trace scores alike.
        let mut builder = BaselineBuilder::default();
        for _ in 0..MIN_NAME_SAMPLES {
            let healthy = trace(10);
            builder.add_trace(&healthy.iter().collect::<Vec<_>>());
        }
        let base = builder.finish();
        let slow = trace(30);
        let refs: Vec<&Span> = slow.iter().collect();
        let order: Vec<String> = rank_services(&refs, &[true; 3], &base)
            .into_iter()
            .map(|s| s.service)
            .collect();
        assert_eq!(order, ["db", "back", "front"]);
    }

    #[test]
    fn error_origins_come_first() {
        let base = baseline();
        let mut spans = trace(50);
        spans[1].status = Status {
            code: StatusCode::Error,
            message: String::new(),
        };
        let refs: Vec<&Span> = spans.iter().collect();
        let ranking = rank_services(&refs, &[true; 3], &base);
        assert_eq!(ranking[0].service, "back");
        assert!(ranking[0].error_origin);
        // An error whose child is an error too is not where it started.
        spans[0].status = spans[1].status.clone();
        let refs: Vec<&Span> = spans.iter().collect();
        let ranking = rank_services(&refs, &[true; 3], &base);
        assert_eq!(ranking[0].service, "back");
        assert!(
            !ranking
                .iter()
                .find(|s| s.service == "front")
                .unwrap()
                .error_origin
        );
    }

    #[test]
    fn rare_names_fall_back_to_the_service_baseline() {
        let mut builder = BaselineBuilder::default();
        for i in 0..6u64 {
            let spans = [span("x", "", "svc", &format!("/item/{i}"), 0, 10 + i)];
            builder.add_trace(&spans.iter().collect::<Vec<_>>());
        }
        for _ in 0..MIN_NAME_SAMPLES {
            let spans = [span("y", "", "svc", "/common", 0, 100)];
            builder.add_trace(&spans.iter().collect::<Vec<_>>());
        }
        let base = builder.finish();
        assert_eq!(base.expected("svc", "/common").median, 100_000_000);
        // Of 11 values (10..=15 and five 100s) the median is the sixth: 15 ms.
        assert_eq!(base.expected("svc", "/item/3").median, 15_000_000);
        assert_eq!(base.expected("unknown", "/x"), Expected::default());
    }

    #[test]
    fn fault_metrics_count_kept_faults_and_ranks() {
        let mut spans = trace(10);
        for s in trace(60) {
            spans.push(Span {
                trace_id: b"u".to_vec(),
                ..s
            });
        }
        let doc = TraceDocument::new(trace_formats::Format::OtlpJson, "test", spans);
        let groups = TraceGroups::of(&doc.spans);
        let faults = FaultSet::new(&[Fault {
            trace_id: "u".into(),
            span_id: "q".into(),
            service: "db".into(),
        }]);
        let faulted = FaultedTraces::locate(&doc, &groups, &faults);
        assert_eq!(faulted.spans(), 1);
        let base = baseline();
        let all = measure_faults(&doc, &groups, &faulted, &base, &[true; 6]);
        assert_eq!(
            (
                all.faulted_spans,
                all.kept_faulted_spans,
                all.root_cause_top1,
                all.root_cause_top3
            ),
            (1, 1, 1, 1)
        );
        assert_eq!(all.top1_accuracy(), Some(1.0));
        let none = measure_faults(
            &doc,
            &groups,
            &faulted,
            &base,
            &[true, true, true, false, false, false],
        );
        assert_eq!(
            (
                none.kept_faulted_spans,
                none.visible_faulted_traces,
                none.root_cause_top3
            ),
            (0, 0, 0)
        );
        assert_eq!(none.slowed_span_coverage(), Some(0.0));
        // Only the caller kept: visible, but the fault service is not ranked at all.
        let caller = measure_faults(
            &doc,
            &groups,
            &faulted,
            &base,
            &[false, false, false, true, false, false],
        );
        assert_eq!(
            (caller.visible_faulted_traces, caller.root_cause_top3),
            (1, 0)
        );
        assert_eq!(FaultMetrics::default().top1_accuracy(), None);
    }

    #[test]
    fn one_trace_with_faults_in_two_services_is_judged_on_both() {
        let base = baseline();
        let slow = trace(50);
        let refs: Vec<&Span> = slow.iter().collect();
        // `back` is listed too: `db`, ranked first, is one of the trace's fault services.
        let faults = [None, Some("back"), Some("db")];
        let m = measure_trace_faults(&refs, &[true; 3], &faults, &base);
        assert_eq!(
            (m.faulted_traces, m.faulted_spans, m.kept_faulted_spans),
            (1, 2, 2)
        );
        assert_eq!((m.root_cause_top1, m.root_cause_top3), (1, 1));
        // `front` alone listed: ranked third.
        let m = measure_trace_faults(&refs, &[true; 3], &[Some("front"), None, None], &base);
        assert_eq!((m.root_cause_top1, m.root_cause_top3), (0, 1));
        // No fault in the trace: nothing counted.
        let m = measure_trace_faults(&refs, &[true; 3], &[None; 3], &base);
        assert_eq!(m, FaultMetrics::default());
    }
}
