//! Policy generation: span sites and their scores become rules (one per service and
//! span-name family). Rates are proportional to scores, made monotone on the call
//! graph (a rule's rate is at most that of every rule that can be its parent, so with
//! one randomness per trace a kept span's parent is kept), and scaled so the expected
//! kept volume — rules, the ancestors that error and latency overrides keep, and the
//! override spans themselves — meets the target reduction ([`crate::budget`]). Without
//! traces the volumes are the call graph's estimates (calls per request, loops
//! multiplying); with a trace sample, the measured ones, and the default action's rate
//! joins the share (weighing like a rule of score [`UNMATCHED_SCORE`], at most
//! [`DEFAULT_RATE`]). Rules the sample never matched keep their estimated rate.
//!
//! Output is deterministic: rules sorted by (service, id), matchers sorted, no
//! timestamps; a matcher claimed by several rules of a service stays only in the
//! best-scored one.

use crate::budget::{self, RuleCosts};
use crate::conventions::PredictedStart;
use crate::graph::{CallGraph, Program};
use crate::score::Score;
use crate::spans::SpanSite;
use policy_schema::{
    Action, AttributeCondition, Evidence, Generator, Matcher, Overrides, Policy, Reason, Rule,
    Structure,
};
use std::collections::{BTreeMap, BTreeSet};

/// Rate of spans no rule matches.
pub const DEFAULT_RATE: f64 = 0.05;
/// Lowest rate a rule gets.
pub const MIN_RATE: f64 = 0.01;
/// Highest rate of a sampled rule without traces.
pub const MAX_SAMPLED_RATE: f64 = 0.5;
/// With traces, spans no rule explains weigh like a rule of this score when rates are
/// chosen (below a database or external call: the code says nothing about them).
pub const UNMATCHED_SCORE: f64 = 5.0;
/// A rule with at least this share of trace volume is hot.
pub const HOT_SHARE: f64 = 0.05;

/// A rule before its action is chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleDraft {
    /// `service:label`.
    pub id: String,
    /// Service.
    pub service: String,
    /// The profile(s) naming the matched spans, comma-separated.
    pub profile: Option<String>,
    /// Matchers, sorted.
    pub matchers: Vec<Matcher>,
    /// Score (best site).
    pub score: f64,
    /// Evidence of the best site.
    pub evidence: Evidence,
    /// Indices of the span sites behind the rule.
    pub sites: Vec<usize>,
    /// How its spans look when they start, if the instrumentation renames them later:
    /// each becomes a rule of its own with the same action, for head samplers.
    pub starts: Vec<PredictedStart>,
}

/// Groups sites into rule drafts, sorted by (service, id): one family per (service,
/// site label), split by the set of profiles that name each matcher, so every rule
/// records the profile(s) its names come from (`service:label [profiles]`). Names
/// that do not tell sites apart (`GET`, `Transaction.commit`) gather every site of
/// the service behind them in one rule per shared label, scored by its best site.
pub fn draft_rules(
    program: &Program,
    graph: &CallGraph,
    sites: &[SpanSite],
    scores: &[Score],
) -> Vec<RuleDraft> {
    // (service, label) → (members, matcher → profiles, start forms by profile)
    type Family = (
        Vec<usize>,
        BTreeMap<Matcher, BTreeSet<String>>,
        BTreeSet<(String, PredictedStart)>,
    );
    let mut families: BTreeMap<(String, String), Family> = BTreeMap::new();
    for (i, site) in sites.iter().enumerate() {
        for name in &site.names {
            let label = if name.shared {
                site.shared_label
                    .clone()
                    .unwrap_or_else(|| crate::spans::matcher_text(&name.matcher).to_string())
            } else {
                site.label.clone()
            };
            let family = families.entry((site.service.clone(), label)).or_default();
            if !family.0.contains(&i) {
                family.0.push(i);
            }
            family
                .1
                .entry(name.matcher.clone())
                .or_default()
                .insert(name.profile.clone());
            if let Some(start) = &name.start {
                family.2.insert((name.profile.clone(), start.clone()));
            }
        }
    }
    let mut drafts: Vec<(RuleDraft, BTreeSet<Matcher>)> = Vec::new();
    for ((service, label), (members, matchers, starts)) in families {
        let best = members
            .iter()
            .copied()
            .max_by(|&a, &b| {
                scores[a].total.total_cmp(&scores[b].total).then_with(|| {
                    (&sites[b].file, sites[b].line).cmp(&(&sites[a].file, sites[a].line))
                })
            })
            .expect("families are never empty");
        let site = &sites[best];
        let node = &graph.graph[site.node];
        let function = &program.files[node.file].functions[node.function];
        let mut reasons = scores[best].reasons.clone();
        if members.len() > 1 {
            let distinct: BTreeSet<&str> =
                members.iter().map(|&i| sites[i].label.as_str()).collect();
            if distinct.len() > 1 {
                reasons.push(Reason {
                    kind: "shared-name".into(),
                    points: 0.0,
                    detail: format!(
                        "the name does not tell {} call sites apart; scored by the best",
                        distinct.len()
                    ),
                    file: None,
                    line: None,
                });
            }
        }
        let mut by_profiles: BTreeMap<BTreeSet<String>, BTreeSet<Matcher>> = BTreeMap::new();
        for (matcher, profiles) in matchers {
            by_profiles.entry(profiles).or_default().insert(matcher);
        }
        // Each start form goes with the first profile group naming its profile.
        let mut starts: Vec<(String, PredictedStart)> = starts.into_iter().collect();
        for (profiles, matchers) in by_profiles {
            let (own, rest): (Vec<_>, Vec<_>) =
                starts.into_iter().partition(|(p, _)| profiles.contains(p));
            starts = rest;
            let mut own_starts: Vec<PredictedStart> = Vec::new();
            for (_, start) in own {
                if !own_starts.contains(&start) {
                    own_starts.push(start);
                }
            }
            let profile = profiles.into_iter().collect::<Vec<_>>().join(",");
            drafts.push((
                RuleDraft {
                    id: format!("{service}:{label} [{profile}]"),
                    service: service.clone(),
                    profile: Some(profile),
                    matchers: Vec::new(),
                    score: scores[best].total,
                    evidence: Evidence {
                        score: scores[best].total,
                        function: Some(function.qualified.clone()),
                        file: Some(site.file.clone()),
                        line: Some(site.line),
                        reasons: reasons.clone(),
                    },
                    sites: members.clone(),
                    starts: own_starts,
                },
                matchers,
            ));
        }
    }
    drafts.sort_by(|a, b| (&a.0.service, &a.0.id).cmp(&(&b.0.service, &b.0.id)));
    // A matcher belongs to the best-scored rule of its service (ties: smaller id).
    let mut owner: BTreeMap<(String, Matcher), usize> = BTreeMap::new();
    for (i, (draft, matchers)) in drafts.iter().enumerate() {
        for matcher in matchers {
            let key = (draft.service.clone(), matcher.clone());
            match owner.get(&key) {
                Some(&j) if drafts[j].0.score >= draft.score => {}
                _ => {
                    owner.insert(key, i);
                }
            }
        }
    }
    let mut out = Vec::new();
    for (i, (mut draft, matchers)) in drafts.into_iter().enumerate() {
        draft.matchers = matchers
            .into_iter()
            .filter(|m| owner.get(&(draft.service.clone(), m.clone())) == Some(&i))
            .collect();
        if !draft.matchers.is_empty() {
            out.push(draft);
        }
    }
    out
}

/// Options of generation.
#[derive(Debug, Clone)]
pub struct PolicyOptions {
    /// Share of span volume to remove, in [0, 1].
    pub target_reduction: f64,
    /// Source root as given, recorded in the generator block.
    pub source_root: Option<String>,
    /// The target the call-graph estimate is made for — and so the rate of rules a
    /// trace sample never matched — when calibration moves `target_reduction` to meet
    /// the user's target on the sample; `None`: `target_reduction`.
    pub static_target_reduction: Option<f64>,
}

/// Span volume per rule, measured on a trace sample.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Volumes {
    /// Spans matched by each draft (same order as the drafts).
    pub per_rule: Vec<u64>,
    /// Spans no rule matched.
    pub unmatched: u64,
    /// Error spans (not counted above): kept by the error override whatever the rules
    /// say, so they come out of the budget first.
    pub errors: u64,
}

impl Volumes {
    /// Total spans.
    pub fn total(&self) -> u64 {
        self.per_rule.iter().sum::<u64>() + self.unmatched + self.errors
    }
}

fn round_rate(rate: f64) -> f64 {
    (rate.clamp(MIN_RATE, 1.0) * 10_000.0).round() / 10_000.0
}

/// The policy of a set of drafts (without actions) for measuring volumes.
pub fn keep_all_policy(drafts: &[RuleDraft]) -> Policy {
    let mut policy = assemble(
        drafts,
        &vec![Action::Keep; drafts.len()],
        &PolicyOptions {
            target_reduction: 0.0,
            static_target_reduction: None,
            source_root: None,
        },
    );
    policy.default_action = Action::Keep;
    policy
}

/// Marks rules with a large share of the trace volume as hot (a `trace-frequency`
/// reason, -3).
pub fn apply_trace_frequency(drafts: &mut [RuleDraft], volumes: &Volumes) {
    let total = volumes.total();
    if total == 0 {
        return;
    }
    for (draft, &volume) in drafts.iter_mut().zip(&volumes.per_rule) {
        let share = volume as f64 / total as f64;
        if share >= HOT_SHARE {
            draft.evidence.reasons.push(Reason {
                kind: "trace-frequency".into(),
                points: crate::score::HOT,
                detail: format!(
                    "{volume} of {total} spans in the trace sample ({:.1}%)",
                    share * 100.0
                ),
                file: None,
                line: None,
            });
            draft.score = (draft.score + crate::score::HOT).max(0.0);
            draft.evidence.score = draft.score;
        }
    }
}

/// Chooses actions and builds the policy: rates proportional to scores (`k × score`,
/// between [`MIN_RATE`] and 1), made monotone on the call graph (see
/// [`RuleCosts::make_monotone`]), with the largest `k` whose expected kept volume —
/// rules, the ancestors overrides keep, the override spans themselves — fits
/// `1 - target_reduction` of the volume. Without traces the volumes are the call
/// graph's estimates; with a sample, the measured ones, and rules the sample never
/// matched keep their estimated rate (no volume in the sample says nothing about their
/// volume elsewhere).
pub fn generate(
    drafts: &[RuleDraft],
    options: &PolicyOptions,
    volumes: Option<&Volumes>,
    costs: &RuleCosts,
) -> Policy {
    let target = options.target_reduction.clamp(0.0, 1.0);
    let latency = budget::latency_outlier_share(
        Overrides::default()
            .latency
            .map(|l| l.threshold)
            .unwrap_or(f64::INFINITY),
    );
    let static_choice = choose_rates(
        drafts,
        costs,
        &costs.volume,
        &vec![None; drafts.len()],
        Unmatched::None,
        latency + budget::STATIC_ERROR_SHARE,
        (1.0 - options
            .static_target_reduction
            .unwrap_or(target)
            .clamp(0.0, 1.0))
            * costs.total_volume(),
    );
    let measured = volumes.filter(|v| v.total() > 0 && v.per_rule.len() == drafts.len());
    let choice = match measured {
        None => static_choice.clone(),
        Some(volumes) => {
            let total = volumes.total() as f64;
            let fixed: Vec<Option<f64>> = volumes
                .per_rule
                .iter()
                .zip(&static_choice.rates)
                .map(|(&seen, &rate)| (seen == 0).then_some(rate))
                .collect();
            let measured: Vec<f64> = volumes.per_rule.iter().map(|&v| v as f64).collect();
            choose_rates(
                drafts,
                costs,
                &measured,
                &fixed,
                Unmatched::Spans(volumes.unmatched as f64),
                latency + volumes.errors as f64 / total,
                ((1.0 - target) * total - volumes.errors as f64).max(0.0),
            )
        }
    };
    let actions: Vec<Action> = choice
        .rates
        .iter()
        .map(|&rate| {
            let rate = round_rate(rate);
            if rate >= 1.0 {
                Action::Keep
            } else {
                Action::Sample { rate }
            }
        })
        .collect();
    let static_total: f64 = costs.volume.iter().sum();
    let override_share = latency + budget::STATIC_ERROR_SHARE;
    let explained: Vec<RuleDraft> = drafts
        .iter()
        .enumerate()
        .map(|(i, draft)| {
            let mut draft = draft.clone();
            let kept = budget::expected_kept_share(
                round_rate(choice.rates[i]),
                costs.descendants[i],
                override_share,
            );
            let mut detail = format!(
                "about {:.3} spans per round of requests (one to every entry point the call graph shows; {:.2}% of the estimated volume), {:.1} spans below each; kept with overrides and as an ancestor: {:.1}%",
                costs.volume[i],
                100.0 * costs.volume[i] / static_total.max(f64::MIN_POSITIVE),
                costs.descendants[i],
                100.0 * kept
            );
            if costs.unseen_callers[i] {
                detail.push_str(&format!(
                    "; no parent in the code: {} unseen caller spans counted with each kept span",
                    budget::UNSEEN_CALLER_SPANS
                ));
            }
            if let Some(volumes) = measured {
                match volumes.per_rule[i] {
                    0 => detail.push_str("; not in the trace sample: estimated rate kept"),
                    seen => detail.push_str(&format!("; {seen} spans in the trace sample")),
                }
            }
            draft.evidence.reasons.push(Reason {
                kind: "cost-estimate".into(),
                points: 0.0,
                detail,
                file: None,
                line: None,
            });
            if !costs.parents[i].is_empty() {
                let names: Vec<&str> = costs.parents[i]
                    .iter()
                    .take(5)
                    .map(|e| drafts[e.parent].id.as_str())
                    .collect();
                let more = costs.parents[i].len().saturating_sub(names.len());
                draft.evidence.reasons.push(Reason {
                    kind: "monotone".into(),
                    points: 0.0,
                    detail: format!(
                        "sampled at most at the rate of the {} rule(s) that can be its parent: {}{}",
                        costs.parents[i].len(),
                        names.join(", "),
                        if more > 0 { format!(" and {more} more") } else { String::new() }
                    ),
                    file: None,
                    line: None,
                });
            }
            draft
        })
        .collect();
    let mut policy = assemble(&explained, &actions, options);
    policy.default_action = Action::Sample {
        rate: round_rate(choice.default_rate),
    };
    policy
}

/// Spans no rule matches, for [`choose_rates`].
#[derive(Debug, Clone, Copy)]
enum Unmatched {
    /// Without traces: unknown, not budgeted; the default rate is the lowest rule rate
    /// (at most [`DEFAULT_RATE`]).
    None,
    /// Measured on a sample: they weigh like a rule of [`UNMATCHED_SCORE`].
    Spans(f64),
}

/// Rates of rules and of the default action.
#[derive(Debug, Clone)]
struct RateChoice {
    rates: Vec<f64>,
    default_rate: f64,
}

/// The monotone rates `k × score` (or `fixed`) with the largest `k` whose expected kept
/// volume is at most `allowed`; the tightest (`k = 0`) when none fits.
fn choose_rates(
    drafts: &[RuleDraft],
    costs: &RuleCosts,
    volume: &[f64],
    fixed: &[Option<f64>],
    unmatched: Unmatched,
    override_share: f64,
    allowed: f64,
) -> RateChoice {
    let at = |k: f64| -> (RateChoice, f64) {
        let mut rates: Vec<f64> = drafts
            .iter()
            .zip(fixed)
            .map(|(draft, fixed)| fixed.unwrap_or((k * draft.score.max(0.0)).clamp(MIN_RATE, 1.0)))
            .collect();
        costs.make_monotone(&mut rates);
        let mut kept: f64 = rates
            .iter()
            .enumerate()
            .map(|(i, &rate)| {
                volume[i]
                    * costs.spans_per_kept(i)
                    * budget::expected_kept_share(
                        round_rate(rate),
                        costs.descendants[i],
                        override_share,
                    )
            })
            .sum();
        // The default action never samples above a rule: an unmatched span under any
        // rule is then only kept when that rule keeps its parent.
        let lowest_rule = rates.iter().copied().fold(DEFAULT_RATE, f64::min);
        let default_rate = match unmatched {
            Unmatched::None => lowest_rule,
            Unmatched::Spans(spans) => {
                let rate = (k * UNMATCHED_SCORE)
                    .clamp(MIN_RATE, DEFAULT_RATE)
                    .min(lowest_rule);
                kept += spans * budget::expected_kept_share(round_rate(rate), 0.0, override_share);
                rate
            }
        };
        (
            RateChoice {
                rates,
                default_rate,
            },
            kept,
        )
    };
    let lowest_score = drafts
        .iter()
        .map(|d| d.score)
        .filter(|&s| s > 0.0)
        .fold(f64::INFINITY, f64::min);
    // At `high` every rule with a positive score is kept.
    let high_limit = if lowest_score.is_finite() {
        1.0 / lowest_score
    } else {
        1.0
    }
    .max(DEFAULT_RATE / UNMATCHED_SCORE);
    let (mut low, mut high) = (0.0f64, high_limit);
    if at(high).1 <= allowed {
        return at(high).0;
    }
    for _ in 0..60 {
        let mid = (low + high) / 2.0;
        if at(mid).1 > allowed {
            high = mid
        } else {
            low = mid
        }
    }
    at(low).0
}

fn assemble(drafts: &[RuleDraft], actions: &[Action], options: &PolicyOptions) -> Policy {
    let mut rules = Vec::with_capacity(drafts.len());
    // After every draft's own rule, so that rule `i` stays draft `i` (volumes and the
    // monotone check index rules by draft); precedence does not depend on the order
    // here, since a start form's conditions rank it before its plain siblings.
    let mut start_rules = Vec::new();
    for (draft, action) in drafts.iter().zip(actions) {
        rules.push(Rule {
            id: draft.id.clone(),
            service: Some(draft.service.clone()),
            profile: draft.profile.clone(),
            matchers: draft.matchers.clone(),
            action: *action,
            kind: None,
            attributes: Vec::new(),
            evidence: Some(draft.evidence.clone()),
        });
        // The same spans as they start (before a rename): the same action, so the
        // budget and monotonicity of the rule hold for them too. A span meets one of
        // the two: a head sampler sees the start form, the runtime the final name.
        for (n, start) in draft.starts.iter().enumerate() {
            let suffix = if n == 0 {
                String::new()
            } else {
                format!(" {}", n + 1)
            };
            start_rules.push(Rule {
                id: format!("{} @start{suffix}", draft.id),
                service: Some(draft.service.clone()),
                profile: draft.profile.clone(),
                matchers: start.names.clone(),
                action: *action,
                kind: Some(start.kind),
                attributes: start
                    .attributes
                    .iter()
                    .map(|(key, matcher)| AttributeCondition {
                        key: key.clone(),
                        matcher: matcher.clone(),
                    })
                    .collect(),
                evidence: Some(draft.evidence.clone()),
            });
        }
    }
    rules.extend(start_rules);
    Policy {
        schema: None,
        version: policy_schema::FORMAT_VERSION,
        generator: Generator {
            tool: "autoscope".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            source_root: options.source_root.clone(),
            arguments: Vec::new(),
        },
        target_reduction: options.target_reduction,
        default_action: Action::Sample { rate: DEFAULT_RATE },
        overrides: Overrides::default(),
        structure: Structure::default(),
        budget: None,
        rules,
    }
}

/// The policy as JSON text, pretty-printed with a trailing newline.
pub fn to_json(policy: &Policy) -> String {
    let mut text = serde_json::to_string_pretty(policy).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(id: &str, score: f64) -> RuleDraft {
        RuleDraft {
            id: format!("s:{id}"),
            service: "s".into(),
            profile: None,
            matchers: vec![Matcher::Exact(id.into())],
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

    fn rate_of(action: Action) -> f64 {
        match action {
            Action::Keep => 1.0,
            Action::Sample { rate } => rate,
        }
    }

    fn options(target_reduction: f64) -> PolicyOptions {
        PolicyOptions {
            target_reduction,
            static_target_reduction: None,
            source_root: None,
        }
    }

    /// A chain: 0 (server) → 1 (client) → 2 (server of another service) → 3 (query in
    /// a loop), with scores that would sample the query above its callers.
    fn chain() -> (Vec<RuleDraft>, RuleCosts) {
        use crate::budget::{ParentLink, SiteGraph};
        let drafts = vec![
            draft("server", 5.0),
            draft("client", 10.0),
            draft("backend", 5.0),
            draft("query", 60.0),
        ];
        let link = |parent, calls| ParentLink { parent, calls };
        let sites = SiteGraph::from_parents(vec![
            vec![],
            vec![link(0, 1.0)],
            vec![link(1, 1.0)],
            vec![link(2, 10.0)],
        ]);
        let costs = RuleCosts::of(&[vec![0], vec![1], vec![2], vec![3]], &sites);
        (drafts, costs)
    }

    #[test]
    fn static_rates_are_monotone_and_meet_the_target_with_overrides() {
        let (drafts, costs) = chain();
        let policy = generate(&drafts, &options(0.9), None, &costs);
        let rates: Vec<f64> = policy.rules.iter().map(|r| rate_of(r.action)).collect();
        let [server, client, backend, query] = rates[..] else {
            panic!("{rates:?}")
        };
        assert!(
            query <= backend && backend <= client && client <= server,
            "{rates:?}"
        );
        assert!(
            costs
                .violations(&[server, client, backend, query].map(Some))
                .is_empty()
        );
        // The loop makes the query 10 of the 13 spans per request.
        assert_eq!(costs.volume, [1.0, 1.0, 1.0, 10.0]);
        let override_share = budget::latency_outlier_share(6.0) + budget::STATIC_ERROR_SHARE;
        let kept: f64 = [server, client, backend, query]
            .iter()
            .enumerate()
            .map(|(i, &rate)| {
                costs.volume[i]
                    * costs.spans_per_kept(i)
                    * budget::expected_kept_share(rate, costs.descendants[i], override_share)
            })
            .sum();
        // 13 spans the code shows, and the 2 unseen callers of the root.
        assert_eq!(costs.total_volume(), 15.0);
        let share = kept / costs.total_volume();
        assert!(share <= 0.1 + 1e-3 && share > 0.08, "kept share {share}");
        assert!(
            query < 1.0,
            "a loop of queries is not kept whole: {rates:?}"
        );
        // The estimate is recorded for `explain`.
        let reasons = &policy.rules[3].evidence.as_ref().unwrap().reasons;
        assert!(reasons.iter().any(|r| {
            r.kind == "cost-estimate"
                && r.detail
                    .contains("about 10.000 spans per round of requests")
        }));
        assert!(
            reasons
                .iter()
                .any(|r| r.kind == "monotone" && r.detail.contains("s:backend"))
        );
        policy_schema::from_json_str(&to_json(&policy)).unwrap();
    }

    #[test]
    fn higher_scores_get_higher_rates_and_a_looser_target_keeps_more() {
        let drafts: Vec<RuleDraft> = (0..10)
            .map(|i| draft(&format!("r{i}"), f64::from(i) * 5.0))
            .collect();
        let costs = RuleCosts::flat(drafts.len());
        let tight = generate(&drafts, &options(0.9), None, &costs);
        let loose = generate(&drafts, &options(0.5), None, &costs);
        let rates = |p: &Policy| {
            p.rules
                .iter()
                .map(|r| rate_of(r.action))
                .collect::<Vec<_>>()
        };
        let (tight, loose) = (rates(&tight), rates(&loose));
        assert!(tight.windows(2).all(|w| w[0] <= w[1]), "{tight:?}");
        assert!(tight.iter().zip(&loose).all(|(t, l)| t <= l));
        assert!(loose.iter().sum::<f64>() > tight.iter().sum::<f64>());
        assert!(loose[9] > tight[9], "{loose:?}");
    }

    #[test]
    fn meets_the_target_on_trace_volume() {
        let drafts = vec![draft("a", 40.0), draft("b", 20.0), draft("c", 5.0)];
        let volumes = Volumes {
            per_rule: vec![100, 400, 500],
            unmatched: 0,
            errors: 0,
        };
        let policy = generate(&drafts, &options(0.8), Some(&volumes), &RuleCosts::flat(3));
        let kept: f64 = policy
            .rules
            .iter()
            .zip(&volumes.per_rule)
            .map(|(r, &v)| v as f64 * rate_of(r.action))
            .sum();
        // Unrelated rules are roots: their unseen callers are kept with them, and the
        // latency override may fire on any span.
        let kept = kept * (1.0 + budget::UNSEEN_CALLER_SPANS)
            + 1000.0
                * (1.0 + budget::UNSEEN_CALLER_SPANS)
                * budget::latency_outlier_share(6.0)
                * 0.8;
        assert!(
            (kept / 1000.0 - 0.2).abs() < 0.02,
            "kept share {}",
            kept / 1000.0
        );
    }

    #[test]
    fn rules_unseen_in_the_sample_keep_their_estimated_rate() {
        let drafts = vec![draft("a", 40.0), draft("b", 20.0), draft("c", 5.0)];
        let costs = RuleCosts::flat(3);
        let estimated = generate(&drafts, &options(0.9), None, &costs);
        let volumes = Volumes {
            per_rule: vec![0, 400, 0],
            unmatched: 100,
            errors: 0,
        };
        let calibrated = generate(&drafts, &options(0.9), Some(&volumes), &costs);
        for i in [0, 2] {
            assert_eq!(calibrated.rules[i].action, estimated.rules[i].action);
            assert_ne!(calibrated.rules[i].action, Action::Keep);
        }
        let reasons = &calibrated.rules[0].evidence.as_ref().unwrap().reasons;
        assert!(
            reasons
                .iter()
                .any(|r| r.detail.contains("not in the trace sample"))
        );
    }

    #[test]
    fn error_spans_and_unexplained_spans_share_the_budget() {
        let drafts = vec![draft("a", 40.0), draft("b", 20.0), draft("c", 5.0)];
        // 2000 spans: 100 error spans kept by the override, 900 that no rule explains.
        let volumes = Volumes {
            per_rule: vec![100, 400, 500],
            unmatched: 900,
            errors: 100,
        };
        let policy = generate(&drafts, &options(0.8), Some(&volumes), &RuleCosts::flat(3));
        let default_rate = rate_of(policy.default_action);
        assert!((MIN_RATE..=DEFAULT_RATE).contains(&default_rate));
        // Each span may also be an override: the error share measured, outliers estimated.
        let override_share = budget::latency_outlier_share(6.0) + 100.0 / 2000.0;
        let expected = |rate| budget::expected_kept_share(rate, 0.0, override_share);
        // Unrelated rules: each kept span also keeps its unseen callers.
        let kept: f64 = policy
            .rules
            .iter()
            .zip(&volumes.per_rule)
            .map(|(r, &v)| {
                v as f64 * (1.0 + budget::UNSEEN_CALLER_SPANS) * expected(rate_of(r.action))
            })
            .sum::<f64>()
            + volumes.unmatched as f64 * expected(default_rate)
            + volumes.errors as f64;
        let share = kept / 2000.0;
        assert!(share <= 0.2 + 1e-3 && share > 0.17, "kept share {share}");
    }
}
