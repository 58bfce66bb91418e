//! The head decision: what a span's fate is at its start, from the policy alone.
//!
//! A function of the policy and of the span's start ([`SpanStart`]: service, name, kind,
//! start attributes, trace id and tracestate), with no state: the deciding rule (or the
//! default action) by the matcher's precedence, its threshold ([`crate::consistent`]),
//! and keep iff the trace's randomness reaches it. This is the decision the SDK samplers
//! make and the conformance vectors pin; [`crate::Sampler`] adds the overrides, the
//! budget and the structure pass on top.

use crate::consistent::{Randomness, adjusted_count, keeps, randomness, threshold};
use crate::matcher::{BadTemplate, CompiledMatchers, RuleMatch};
use crate::sampler::{CompileError, DecidedBy};
use crate::span::SpanStart;
use policy_schema::{Action, Policy};

/// The action of a rule (or the default) with what deciding needs precomputed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CompiledAction {
    pub action: Action,
    /// The threshold at full rate: 0 for `keep`.
    pub threshold: u64,
    /// The adjusted count of a span kept at that threshold.
    pub adjusted_count: f64,
}

/// The head decision of one span.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeadDecision {
    /// Keep (sample) the span?
    pub sampled: bool,
    /// The rule (or default) whose action applied.
    pub decided_by: DecidedBy,
    /// The matcher that matched, when a rule decided.
    pub rule_match: Option<RuleMatch>,
    /// The threshold applied (0 for `keep`, `2^56` for rate 0).
    pub threshold: u64,
    /// The trace's randomness.
    pub randomness: Randomness,
    /// `2^56 / (2^56 - threshold)` when sampled, 0 when not.
    pub adjusted_count: f64,
}

/// A compiled policy's matchers and actions: the stateless head decision. Cheap to share
/// between threads (`Send + Sync`); decisions take `&self`.
#[derive(Debug, Clone)]
pub struct Decider {
    pub(crate) matchers: CompiledMatchers,
    /// Per rule, then the default action last.
    pub(crate) actions: Vec<CompiledAction>,
}

impl Decider {
    /// Compiles `policy`'s rules and actions.
    pub fn new(policy: &Policy) -> Result<Self, CompileError> {
        let matchers = CompiledMatchers::compile(policy).map_err(
            |BadTemplate {
                 rule,
                 template,
                 error,
             }| CompileError::Template {
                rule,
                template,
                error,
            },
        )?;
        let mut actions = Vec::with_capacity(policy.rules.len() + 1);
        let all = policy
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("rules[{i}].action"), r.action))
            .chain([("default_action".to_string(), policy.default_action)]);
        for (field, action) in all {
            let full_threshold = match action {
                Action::Keep => 0,
                Action::Sample { rate } if (0.0..=1.0).contains(&rate) => threshold(rate),
                Action::Sample { rate } => return Err(CompileError::Rate { field, rate }),
            };
            actions.push(CompiledAction {
                action,
                threshold: full_threshold,
                adjusted_count: adjusted_count(full_threshold),
            });
        }
        Ok(Self { matchers, actions })
    }

    /// The rule that decides a span at its start, if any (the default action otherwise).
    pub fn rule_for(&self, start: &SpanStart<'_>) -> Option<RuleMatch> {
        self.matchers.find_for(start)
    }

    /// The action that applies to a span decided by `decided_by`.
    pub fn action(&self, decided_by: DecidedBy) -> Action {
        self.compiled_action(decided_by).action
    }

    pub(crate) fn compiled_action(&self, decided_by: DecidedBy) -> &CompiledAction {
        let last = self.actions.len() - 1;
        match decided_by {
            DecidedBy::Rule(index) => &self.actions[index.min(last)],
            DecidedBy::Default => &self.actions[last],
        }
    }

    /// The head decision of a span.
    pub fn decide(&self, start: &SpanStart<'_>) -> HeadDecision {
        self.decide_with_randomness(start, randomness(start.trace_id, start.trace_state))
    }

    /// The head decision of a span whose randomness the caller computed (an SDK whose
    /// tracestate type holds the `ot` value: [`crate::consistent::randomness_from_ot`]);
    /// `start.trace_id` and `start.trace_state` are not read.
    pub fn decide_with_randomness(
        &self,
        start: &SpanStart<'_>,
        randomness: Randomness,
    ) -> HeadDecision {
        let rule_match = self.rule_for(start);
        let decided_by =
            rule_match.map_or(DecidedBy::Default, |m| DecidedBy::Rule(m.rule as usize));
        let action = self.compiled_action(decided_by);
        let sampled = keeps(randomness.value, action.threshold);
        HeadDecision {
            sampled,
            decided_by,
            rule_match,
            threshold: action.threshold,
            randomness,
            adjusted_count: if sampled { action.adjusted_count } else { 0.0 },
        }
    }
}
