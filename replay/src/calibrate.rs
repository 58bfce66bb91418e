//! Meeting the target reduction on a trace sample by simulation.
//!
//! [`policy_gen::generate`] chooses rates from span volumes alone, but at run time the
//! error and latency overrides and the ancestor pass keep spans the rates do not count.
//! With a trace sample at hand we can do better than estimate: run the runtime sampler
//! over the sample with a candidate policy, measure the share of spans it keeps, and
//! tighten the policy (bisection on the internal target) until the measured share meets
//! the user's target. The policy still records the user's target.

use crate::apply::{TraceGroups, sample_document};
use autoscope_analysis::budget::RuleCosts;
use autoscope_analysis::policy_gen::{self, PolicyOptions, RuleDraft, Volumes};
use policy_schema::Policy;
use runtime_sampler::Sampler;
use trace_formats::TraceDocument;

/// Splits documents into (calibration, holdout) by trace id: a trace is held out when
/// the xxh3 hash of its id falls in the first `holdout` share of the hash range, so the
/// split is deterministic, keeps traces whole, and is independent of the sampling
/// randomness (which comes from the id's low bits, not a hash).
pub fn split_by_trace_id(
    docs: &[TraceDocument],
    holdout: f64,
) -> (Vec<TraceDocument>, Vec<TraceDocument>) {
    let limit = (holdout.clamp(0.0, 1.0) * u64::MAX as f64) as u64;
    let mut calibration = Vec::new();
    let mut held_out = Vec::new();
    for doc in docs {
        let (out, kept): (Vec<_>, Vec<_>) = doc
            .spans
            .iter()
            .cloned()
            .partition(|span| xxhash_rust::xxh3::xxh3_64(&span.trace_id) < limit);
        calibration.push(TraceDocument::new(doc.format, doc.origin.clone(), kept));
        held_out.push(TraceDocument::new(doc.format, doc.origin.clone(), out));
    }
    (calibration, held_out)
}

/// Copies of the sample with fresh randomness that calibration measures on: one trace
/// is kept or dropped as a whole by its one randomness, so a sample of a few thousand
/// traces keeps ±1–2 points around its expectation by chance alone, and bisecting on one
/// draw fits rates to that draw instead of to the traffic.
pub const CALIBRATION_DRAWS: usize = 4;

/// `copies` copies of `docs`, one per draw, each trace id suffixed with `/copy` so the
/// sampler draws a new randomness for it (a suffixed id is never a W3C id: it is
/// hashed).
pub fn redrawn(docs: &[TraceDocument], copies: usize) -> Vec<Vec<TraceDocument>> {
    (0..copies)
        .map(|copy| {
            docs.iter()
                .map(|doc| {
                    let spans = doc
                        .spans
                        .iter()
                        .map(|span| {
                            let mut span = span.clone();
                            span.trace_id
                                .extend_from_slice(format!("/{copy}").as_bytes());
                            span
                        })
                        .collect();
                    TraceDocument::new(doc.format, doc.origin.clone(), spans)
                })
                .collect()
        })
        .collect()
}

/// The mean of [`simulated_kept_share`] over draws, each with a fresh sampler (so the
/// latency override's windows see the sample once, as at run time).
pub fn expected_kept_share(policy: &Policy, draws: &[Vec<TraceDocument>]) -> Option<f64> {
    let shares: Option<Vec<f64>> = draws
        .iter()
        .map(|docs| simulated_kept_share(policy, docs))
        .collect();
    let shares = shares?;
    (!shares.is_empty()).then(|| shares.iter().sum::<f64>() / shares.len() as f64)
}

/// Bisection steps: the internal target is then known to within 2^-12 of its range.
const STEPS: u32 = 12;

/// The share of the sample's spans `policy` keeps (decisions, overrides and structure),
/// or `None` when the policy does not compile or the sample is empty.
pub fn simulated_kept_share(policy: &Policy, docs: &[TraceDocument]) -> Option<f64> {
    let mut sampler = Sampler::new(policy).ok()?;
    let (mut spans, mut kept) = (0usize, 0usize);
    for doc in docs {
        let groups = TraceGroups::of(&doc.spans);
        kept += sample_document(&mut sampler, doc, &groups).kept.len();
        spans += doc.spans.len();
    }
    (spans > 0).then(|| kept as f64 / spans as f64)
}

/// A calibrated policy and the share of the sample it keeps (`None` when that could not
/// be measured).
#[derive(Debug, Clone, PartialEq)]
pub struct Calibrated {
    /// The policy.
    pub policy: Policy,
    /// Share of the sample's spans the runtime sampler keeps with it, over
    /// [`CALIBRATION_DRAWS`] draws of the traces' randomness.
    pub kept_share: Option<f64>,
}

/// The policy [`policy_gen::generate`] makes for `drafts` and `volumes`, tightened or
/// loosened until the runtime sampler keeps just under `1 - target_reduction` of `docs`
/// — or as tight as generation allows when even that keeps more (error spans alone may
/// exceed the budget).
pub fn calibrate(
    drafts: &[RuleDraft],
    volumes: &Volumes,
    options: &PolicyOptions,
    costs: &RuleCosts,
    docs: &[TraceDocument],
) -> Calibrated {
    // The expected cost model (`policy_gen::generate`) first; then the simulation
    // corrects what it misses, on several draws of the traces' randomness.
    let draws = redrawn(docs, CALIBRATION_DRAWS);
    let target = options.target_reduction.clamp(0.0, 1.0);
    let evaluate = |internal: f64| {
        let mut tightened = options.clone();
        tightened.target_reduction = internal;
        tightened.static_target_reduction = Some(target);
        let mut policy = policy_gen::generate(drafts, &tightened, Some(volumes), costs);
        policy.target_reduction = options.target_reduction;
        let kept_share = expected_kept_share(&policy, &draws);
        Calibrated { policy, kept_share }
    };
    let allowed = 1.0 - target;
    let fits = |candidate: &Calibrated| candidate.kept_share.is_none_or(|s| s <= allowed);
    let first = evaluate(target);
    // Bisection on the internal target: towards 1 when the first policy keeps too much,
    // towards 0 (looser) when it keeps less than allowed, so the sample's kept share
    // lands just under the target from either side.
    let (mut loose, mut tight, mut best) = if fits(&first) {
        if first.kept_share.is_none() {
            return first;
        }
        (0.0, target, first)
    } else {
        (target, 1.0, evaluate(1.0))
    };
    for _ in 0..STEPS {
        let mid = (loose + tight) / 2.0;
        let candidate = evaluate(mid);
        if fits(&candidate) {
            tight = mid;
            best = candidate;
        } else {
            loose = mid;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use policy_schema::{Evidence, Matcher};
    use std::sync::Arc;
    use trace_formats::{Format, Resource, Span};

    fn draft(name: &str, score: f64) -> RuleDraft {
        RuleDraft {
            id: format!("shop:{name}"),
            service: "shop".into(),
            profile: None,
            matchers: vec![Matcher::Exact(name.into())],
            score,
            evidence: Evidence {
                score,
                function: None,
                file: None,
                line: None,
                reasons: Vec::new(),
            },
            sites: Vec::new(),
            starts: Vec::new(),
        }
    }

    /// 400 traces of a root `GET /` and a child `db`.
    fn sample() -> TraceDocument {
        let resource = Arc::new(Resource::for_service("shop"));
        let mut spans = Vec::new();
        for trace in 0..400u32 {
            let trace_id = format!("trace-{trace}").into_bytes();
            for (id, parent, name) in [("r", "", "GET /"), ("c", "r", "db")] {
                spans.push(Span {
                    trace_id: trace_id.clone(),
                    span_id: id.as_bytes().to_vec(),
                    parent_span_id: parent.as_bytes().to_vec(),
                    name: name.into(),
                    start_time_unix_nano: 1_000,
                    end_time_unix_nano: 2_000,
                    resource: Arc::clone(&resource),
                    ..Span::default()
                });
            }
        }
        TraceDocument::new(Format::OtlpJson, "sample", spans)
    }

    #[test]
    fn tightens_until_the_sampler_meets_the_target() {
        // The child scores high and the root low: rates from volume alone keep about
        // 10% of spans, but every kept child keeps its root too.
        let drafts = vec![draft("GET /", 1.0), draft("db", 50.0)];
        let volumes = Volumes {
            per_rule: vec![400, 400],
            unmatched: 0,
            errors: 0,
        };
        let options = PolicyOptions {
            target_reduction: 0.9,
            static_target_reduction: None,
            source_root: None,
        };
        let docs = [sample()];
        // Unrelated rules: the model counts unseen callers for both, and misses that
        // every kept child keeps its root; the simulation corrects either way.
        let costs = RuleCosts::flat(drafts.len());
        let plain = policy_gen::generate(&drafts, &options, Some(&volumes), &costs);
        let plain_share = simulated_kept_share(&plain, &docs).expect("a share");
        assert!(
            !(0.08..=0.1).contains(&plain_share),
            "the model alone keeps {plain_share}"
        );
        let calibrated = calibrate(&drafts, &volumes, &options, &costs, &docs).policy;
        let draws = redrawn(&docs, CALIBRATION_DRAWS);
        let share = expected_kept_share(&calibrated, &draws).expect("a share");
        assert!(share <= 0.1, "calibrated policy keeps {share}");
        assert!(share > 0.08, "calibrated policy keeps too little: {share}");
        // One draw of 400 traces lands near the expectation, not on it.
        let one_draw = simulated_kept_share(&calibrated, &docs).expect("a share");
        assert!((0.05..0.15).contains(&one_draw), "{one_draw}");
        assert_eq!(calibrated.target_reduction, 0.9);
        assert_eq!(
            calibrate(&drafts, &volumes, &options, &costs, &docs).policy,
            calibrated
        );
    }

    #[test]
    fn redrawn_copies_have_distinct_trace_ids_and_the_same_traces() {
        let docs = [sample()];
        let copies = redrawn(&docs, 3);
        assert_eq!(copies.len(), 3);
        let ids: std::collections::BTreeSet<&[u8]> = copies
            .iter()
            .flatten()
            .flat_map(|d| d.spans.iter().map(|s| s.trace_id.as_slice()))
            .collect();
        assert_eq!(ids.len(), 1200);
        assert!(copies.iter().flatten().all(|d| d.spans.len() == 800));
    }

    #[test]
    fn the_holdout_split_keeps_traces_whole_and_is_near_its_fraction() {
        let docs = [sample()];
        let (calibration, holdout) = split_by_trace_id(&docs, 0.5);
        let ids = |docs: &[TraceDocument]| -> std::collections::BTreeSet<Vec<u8>> {
            docs.iter()
                .flat_map(|d| d.spans.iter().map(|s| s.trace_id.clone()))
                .collect()
        };
        let (a, b) = (ids(&calibration), ids(&holdout));
        assert!(a.is_disjoint(&b));
        assert_eq!(a.len() + b.len(), 400);
        assert!((150..250).contains(&b.len()), "{} held out", b.len());
        assert_eq!(calibration[0].spans.len() + holdout[0].spans.len(), 800);
        let (all, none) = split_by_trace_id(&docs, 0.0);
        assert_eq!((all[0].spans.len(), none[0].spans.len()), (800, 0));
    }
}
