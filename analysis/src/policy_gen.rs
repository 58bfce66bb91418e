//! Policy generation: span sites and their scores become rules (one per service and
//! span-name family), ranked by score. Without traces, the top `1 - target_reduction`
//! share of rules is kept and the rest sampled at `score / 100` (between 0.01 and
//! 0.5). With a trace sample, rules are kept in score order while their span volume
//! fits the budget `(1 - target_reduction) * volume`, and the remaining rules share
//! what is left at rates proportional to their scores, so the expected kept share of
//! span volume meets the target. The default action's rate joins that share (weighing
//! like a rule of score [`UNMATCHED_SCORE`], at most [`DEFAULT_RATE`]), so a sample in
//! which much traffic comes from code the analyzer never saw still meets the target.
//!
//! Output is deterministic: rules sorted by (service, id), matchers sorted, no
//! timestamps; a matcher claimed by several rules of a service stays only in the
//! best-scored one.

use crate::graph::{CallGraph, Program};
use crate::score::Score;
use crate::spans::SpanSite;
use policy_schema::{
    Action, Evidence, Generator, Matcher, Overrides, Policy, Reason, Rule, Structure,
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
    // (service, label) → (members, matcher → profiles)
    type Family = (Vec<usize>, BTreeMap<Matcher, BTreeSet<String>>);
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
        }
    }
    let mut drafts: Vec<(RuleDraft, BTreeSet<Matcher>)> = Vec::new();
    for ((service, label), (members, matchers)) in families {
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
        for (profiles, matchers) in by_profiles {
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

/// Chooses actions and builds the policy.
pub fn generate(
    drafts: &[RuleDraft],
    options: &PolicyOptions,
    volumes: Option<&Volumes>,
) -> Policy {
    let target = options.target_reduction.clamp(0.0, 1.0);
    let mut order: Vec<usize> = (0..drafts.len()).collect();
    order.sort_by(|&a, &b| {
        drafts[b]
            .score
            .total_cmp(&drafts[a].score)
            .then_with(|| drafts[a].id.cmp(&drafts[b].id))
    });
    let mut actions = vec![Action::Sample { rate: MIN_RATE }; drafts.len()];
    let mut default_action = Action::Sample { rate: DEFAULT_RATE };
    match volumes.filter(|v| v.total() > 0 && v.per_rule.len() == drafts.len()) {
        None => {
            let keep = ((1.0 - target) * drafts.len() as f64).ceil() as usize;
            for (rank, &i) in order.iter().enumerate() {
                actions[i] = if rank < keep {
                    Action::Keep
                } else {
                    Action::Sample {
                        rate: round_rate((drafts[i].score / 100.0).min(MAX_SAMPLED_RATE)),
                    }
                };
            }
        }
        Some(volumes) => {
            let total = volumes.total() as f64;
            let budget = ((1.0 - target) * total - volumes.errors as f64).max(0.0);
            let unmatched = volumes.unmatched as f64;
            // Reserve the least the default action can cost, then keep rules in score
            // order while their volume fits.
            let mut used = MIN_RATE * unmatched;
            let mut sampled = Vec::new();
            for &i in &order {
                let volume = volumes.per_rule[i] as f64;
                if used + volume <= budget && drafts[i].score > 0.0 {
                    actions[i] = Action::Keep;
                    used += volume;
                } else {
                    sampled.push(i);
                }
            }
            let remaining = (budget - used).max(0.0) + MIN_RATE * unmatched;
            // Rate = clamp(k * score): find k so the sampled volume, and the spans no
            // rule explains (weighing like a rule of score UNMATCHED_SCORE, never above
            // DEFAULT_RATE), fill what is left.
            let default_rate = |k: f64| (k * UNMATCHED_SCORE).clamp(MIN_RATE, DEFAULT_RATE);
            let kept_volume = |k: f64| -> f64 {
                sampled
                    .iter()
                    .map(|&i| {
                        volumes.per_rule[i] as f64 * (k * drafts[i].score).clamp(MIN_RATE, 1.0)
                    })
                    .sum::<f64>()
                    + unmatched * default_rate(k)
            };
            let (mut low, mut high) = (0.0f64, 1.0f64);
            while kept_volume(high) < remaining && high < 1e9 {
                high *= 2.0;
            }
            for _ in 0..60 {
                let mid = (low + high) / 2.0;
                if kept_volume(mid) > remaining {
                    high = mid
                } else {
                    low = mid
                }
            }
            for &i in &sampled {
                actions[i] = Action::Sample {
                    rate: round_rate(low * drafts[i].score),
                };
            }
            default_action = Action::Sample {
                rate: round_rate(default_rate(low)),
            };
        }
    }
    let mut policy = assemble(drafts, &actions, options);
    policy.default_action = default_action;
    policy
}

fn assemble(drafts: &[RuleDraft], actions: &[Action], options: &PolicyOptions) -> Policy {
    let rules = drafts
        .iter()
        .zip(actions)
        .map(|(draft, action)| Rule {
            id: draft.id.clone(),
            service: Some(draft.service.clone()),
            profile: draft.profile.clone(),
            matchers: draft.matchers.clone(),
            action: *action,
            kind: None,
            attributes: Vec::new(),
            evidence: Some(draft.evidence.clone()),
        })
        .collect();
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
        }
    }

    #[test]
    fn keeps_the_top_share_without_traces() {
        let drafts: Vec<RuleDraft> = (0..10)
            .map(|i| draft(&format!("r{i}"), f64::from(i) * 5.0))
            .collect();
        let policy = generate(
            &drafts,
            &PolicyOptions {
                target_reduction: 0.8,
                source_root: None,
            },
            None,
        );
        let kept: Vec<&str> = policy
            .rules
            .iter()
            .filter(|r| r.action == Action::Keep)
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(kept, ["s:r8", "s:r9"]);
        assert_eq!(policy.rules[0].action, Action::Sample { rate: MIN_RATE });
        assert_eq!(policy.rules[5].action, Action::Sample { rate: 0.25 });
        policy_schema::from_json_str(&to_json(&policy)).unwrap();
    }

    #[test]
    fn meets_the_target_on_trace_volume() {
        let drafts = vec![draft("a", 40.0), draft("b", 20.0), draft("c", 5.0)];
        let volumes = Volumes {
            per_rule: vec![100, 400, 500],
            unmatched: 0,
            errors: 0,
        };
        let policy = generate(
            &drafts,
            &PolicyOptions {
                target_reduction: 0.8,
                source_root: None,
            },
            Some(&volumes),
        );
        assert_eq!(policy.rules[0].action, Action::Keep);
        let kept: f64 = policy
            .rules
            .iter()
            .zip(&volumes.per_rule)
            .map(|(r, &v)| match r.action {
                Action::Keep => v as f64,
                Action::Sample { rate } => v as f64 * rate,
            })
            .sum();
        assert!((kept / 1000.0 - 0.2).abs() < 0.01, "kept share {kept}");
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
        let policy = generate(
            &drafts,
            &PolicyOptions {
                target_reduction: 0.8,
                source_root: None,
            },
            Some(&volumes),
        );
        let rate_of = |action: Action| match action {
            Action::Keep => 1.0,
            Action::Sample { rate } => rate,
        };
        let default_rate = rate_of(policy.default_action);
        assert!((MIN_RATE..=DEFAULT_RATE).contains(&default_rate));
        let kept: f64 = policy
            .rules
            .iter()
            .zip(&volumes.per_rule)
            .map(|(r, &v)| v as f64 * rate_of(r.action))
            .sum::<f64>()
            + volumes.unmatched as f64 * default_rate
            + volumes.errors as f64;
        assert!(
            (kept / 2000.0 - 0.2).abs() < 0.01,
            "kept share {}",
            kept / 2000.0
        );
    }
}
