//! The sampler: a compiled policy plus the run-time state of its overrides and budget.
//!
//! Per span: the matcher finds the deciding rule (or the default action); a `keep` action
//! keeps, a `sample` action keeps iff the trace's randomness passes the threshold of the
//! (budget-scaled) rate; then the overrides may keep a span the rule dropped (an error
//! span always, a latency outlier). Per trace, the structure pass then keeps the
//! ancestors of kept spans or reparents them.

use crate::budget::BudgetController;
use crate::consistent::{Randomness, adjusted_count, keeps, randomness, threshold};
use crate::head::{CompiledAction, Decider};
use crate::latency::{LatencyKey, LatencyTracker};
use crate::matcher::{RuleMatch, bytes_eq};
use crate::report::Report;
use crate::span::{SpanStart, SpanView};
use crate::structure::{KeepReason, NewParent, Placement, StructurePass, StructureRepairs};
use policy_schema::{Action, Policy, StructureMode};
use thiserror::Error;

/// Why a policy cannot be compiled (policies from `policy_schema::from_path` always
/// compile; these guard policies built in code).
#[derive(Debug, Clone, PartialEq, Error)]
pub enum CompileError {
    /// A template does not parse.
    #[error("rules[{rule}]: invalid template {template:?}: {error}")]
    Template {
        /// Rule index.
        rule: usize,
        /// The template text.
        template: String,
        /// Why.
        error: policy_schema::TemplateError,
    },
    /// A rate outside [0, 1].
    #[error("{field}: rate {rate} is outside [0, 1]")]
    Rate {
        /// `default_action` or `rules[i].action`.
        field: String,
        /// The rate.
        rate: f64,
    },
    /// A budget that is not a positive number.
    #[error("budget.spans_per_second: {0} must be a positive number")]
    Budget(f64),
}

/// Which part of the policy decided a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DecidedBy {
    /// The rule at this index of `Policy::rules`.
    Rule(usize),
    /// No rule matched: the default action.
    Default,
}

/// An override that kept a span its rule would have dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OverrideKind {
    /// The span's status is error.
    Error,
    /// The span's duration is an outlier for its kind.
    Latency,
}

/// The decision for one span, before the structure pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// Keep the span?
    pub keep: bool,
    /// The rule (or default) whose action applied.
    pub decided_by: DecidedBy,
    /// How many spans this one stands for if kept: 1 for `keep` actions and overrides,
    /// `2^56 / (2^56 - threshold)` (about `1 / p`) for a span kept by sampling at
    /// effective rate `p`; 0 when dropped.
    pub adjusted_count: f64,
    /// The override that kept a span the rule dropped, if any.
    pub override_fired: Option<OverrideKind>,
    /// The effective rate (after the budget) when the action was `sample`.
    pub effective_rate: Option<f64>,
    /// The consistent-sampling threshold the rule's action applied (after the budget):
    /// 0 for `keep`, `2^56` for rate 0; the span passed iff its randomness reached it
    /// (or an override kept it). Its `th` encoding is `consistent::encode_th`.
    pub threshold: u64,
}

/// A span's fate after decisions, overrides and the structure pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpanOutcome {
    /// The per-span decision.
    pub decision: Decision,
    /// Why it is kept in the end (`Ancestor` when only the structure pass kept it);
    /// `None` when dropped.
    pub kept: Option<KeepReason>,
    /// Its parent in the output.
    pub parent: NewParent,
    /// Dropped spans between it and its new parent (`reparent` mode).
    pub dropped_between: u32,
}

/// The result for one trace: one outcome per input span, in input order.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceOutcome {
    /// Per span, in the order given.
    pub spans: Vec<SpanOutcome>,
    /// Structure problems found and repaired.
    pub repairs: StructureRepairs,
}

impl TraceOutcome {
    /// Indices of the kept spans, in input order.
    pub fn kept_indices(&self) -> impl Iterator<Item = usize> + '_ {
        self.spans
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kept.is_some())
            .map(|(i, _)| i)
    }

    /// The parent id to write for kept span `index`: `None` for a root. `spans` must be
    /// the slice given to [`Sampler::sample_trace`].
    pub fn output_parent<'a>(&self, spans: &[SpanView<'a>], index: usize) -> Option<&'a [u8]> {
        match self.spans.get(index)?.parent {
            NewParent::Root => None,
            NewParent::Span(parent) => Some(spans.get(parent)?.span_id),
            NewParent::Missing(top) => spans.get(top)?.parent(),
        }
    }
}

/// A compiled policy with its run-time state. Feed it whole traces with
/// [`Sampler::sample_trace`] (or single spans with [`Sampler::decide`] when no structure
/// pass is wanted); read the totals from [`Sampler::report`].
#[derive(Debug)]
pub struct Sampler {
    decider: Decider,
    keep_errors: bool,
    latency: Option<LatencyTracker>,
    budget: Option<BudgetController>,
    /// The rate controller's factor on `sample` rates (1: the policy's rates).
    rate_scale: f64,
    mode: StructureMode,
    report: Report,
    /// The last (trace id, tracestate) seen and its randomness: spans come in runs of
    /// one trace.
    last_trace: Vec<u8>,
    last_trace_state: String,
    last_randomness: Option<Randomness>,
    /// Scratch space reused across traces.
    structure: StructurePass,
    decided: Vec<Option<KeepReason>>,
    decisions: Vec<Decision>,
    placements: Vec<Placement>,
}

impl Sampler {
    /// Compiles `policy`.
    pub fn new(policy: &Policy) -> Result<Self, CompileError> {
        let decider = Decider::new(policy)?;
        let budget = match &policy.budget {
            Some(b) if b.spans_per_second.is_finite() && b.spans_per_second > 0.0 => {
                Some(BudgetController::new(b.spans_per_second))
            }
            Some(b) => return Err(CompileError::Budget(b.spans_per_second)),
            None => None,
        };
        Ok(Self {
            decider,
            keep_errors: policy.overrides.keep_errors,
            latency: policy.overrides.latency.as_ref().map(|config| {
                let matcher_count = policy.rules.iter().map(|r| r.matchers.len()).sum();
                LatencyTracker::new(config, matcher_count)
            }),
            budget,
            rate_scale: 1.0,
            mode: policy.structure.mode,
            report: Report::new(policy),
            last_trace: Vec::new(),
            last_trace_state: String::new(),
            last_randomness: None,
            structure: StructurePass::default(),
            decided: Vec::new(),
            decisions: Vec::new(),
            placements: Vec::new(),
        })
    }

    /// The stateless head decision of this policy (what the SDK samplers decide).
    pub fn decider(&self) -> &Decider {
        &self.decider
    }

    /// The rule that decides a span named `name` in `service` with no kind and no
    /// attributes (pure; no state changes). Rules with conditions never match here: use
    /// [`Sampler::rule_for_span`] for a real span.
    pub fn rule_for(&self, service: &str, name: &str) -> Option<RuleMatch> {
        self.decider.matchers.find(service, name)
    }

    /// The rule that decides a span at its start (pure; no state changes).
    pub fn rule_for_span(&self, start: &SpanStart<'_>) -> Option<RuleMatch> {
        self.decider.rule_for(start)
    }

    /// The totals so far.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The current budget scale on `sample` rates (1 without a budget).
    pub fn budget_scale(&self) -> f64 {
        self.budget.as_ref().map_or(1.0, BudgetController::scale)
    }

    /// Sets the factor on every `sample` rate (a rate becomes `min(1, rate · scale)`;
    /// `keep` rules and overrides are never scaled), as a
    /// [`RateController`](crate::rate_control::RateController) computes it. The budget
    /// still caps the result. Non-finite or non-positive scales are ignored.
    pub fn set_rate_scale(&mut self, scale: f64) {
        if scale.is_finite() && scale > 0.0 {
            self.rate_scale = scale;
        }
    }

    /// The factor on `sample` rates set by [`Sampler::set_rate_scale`] (1 by default).
    pub fn rate_scale(&self) -> f64 {
        self.rate_scale
    }

    /// Decides one span: rule, sampling, overrides. Updates the latency windows, the
    /// budget and the report's per-rule counts (not the structure counts).
    pub fn decide(&mut self, span: &SpanView<'_>) -> Decision {
        let decision = self.decide_quietly(span, None);
        self.report.record_decision(&decision);
        decision
    }

    /// Decides one span; `trace_scale` is the budget scale fixed for the whole trace
    /// (`None`: advance the budget clock to this span's start). Inlined into
    /// both callers: returned through memory, the decision was stored field by field and
    /// read back in wider loads, a store-forwarding stall that `perf annotate` put at
    /// 80% of `sample_trace`'s own time (and half of `decide`'s, reading it to count).
    #[inline(always)]
    fn decide_quietly(&mut self, span: &SpanView<'_>, trace_scale: Option<f64>) -> Decision {
        let found = self.decider.matchers.find_for(&span.start());
        let (decided_by, action_index) = match found {
            Some(m) => (DecidedBy::Rule(m.rule as usize), m.rule as usize),
            None => (DecidedBy::Default, self.decider.actions.len() - 1),
        };
        let CompiledAction {
            action,
            threshold: full_threshold,
            adjusted_count: full_count,
        } = self.decider.actions[action_index];
        let randomness = self.randomness(span.trace_id, span.trace_state);
        let rate_scale = self.rate_scale;
        let (mut keep, mut adjusted, effective_rate, applied_threshold) =
            match (action, &mut self.budget) {
                // Without a budget or a rate scale, `keep` (threshold 0, count 1) and
                // `sample` share one branch-free path: which action a span meets and
                // whether it passes are both unpredictable, so branches on them
                // mispredict.
                (_, None) if rate_scale == 1.0 => {
                    let keep = keeps(randomness, full_threshold);
                    let effective_rate = match action {
                        Action::Keep => None,
                        Action::Sample { rate } => Some(rate),
                    };
                    (
                        keep,
                        if keep { full_count } else { 0.0 },
                        effective_rate,
                        full_threshold,
                    )
                }
                (Action::Keep, _) => (true, 1.0, None, 0),
                (Action::Sample { rate }, budget) => {
                    let full_rate = rate;
                    // The rate controller's scale first; the budget caps what it gives.
                    let rate = (rate * rate_scale).min(1.0);
                    let scale = match (budget, trace_scale) {
                        (None, _) => 1.0,
                        (Some(budget), Some(scale)) => {
                            budget.record(rate);
                            scale
                        }
                        (Some(budget), None) => {
                            let scale = budget.advance(span.start_unix_nano);
                            budget.record(rate);
                            scale
                        }
                    };
                    let (rate, limit, count) = if scale < 1.0 || rate != full_rate {
                        let rate = rate * scale.min(1.0);
                        let limit = threshold(rate);
                        (rate, limit, adjusted_count(limit))
                    } else {
                        (rate, full_threshold, full_count)
                    };
                    let keep = keeps(randomness, limit);
                    (keep, if keep { count } else { 0.0 }, Some(rate), limit)
                }
            };
        // Every span feeds its latency window, kept or not, so the window sees the
        // true distribution.
        let latency_outlier = match &mut self.latency {
            Some(tracker) => tracker.observe(
                span.service,
                LatencyKey::for_match(found, span.name),
                span.duration_nanos,
            ),
            None => false,
        };
        let mut override_fired = None;
        if !keep {
            if self.keep_errors && span.is_error {
                override_fired = Some(OverrideKind::Error);
            } else if latency_outlier {
                override_fired = Some(OverrideKind::Latency);
            }
            if override_fired.is_some() {
                keep = true;
                adjusted = 1.0;
            }
        }
        Decision {
            keep,
            decided_by,
            adjusted_count: adjusted,
            override_fired,
            effective_rate,
            threshold: applied_threshold,
        }
    }

    /// The trace's randomness, cached for runs of spans of one trace (and tracestate).
    fn randomness(&mut self, trace_id: &[u8], trace_state: &str) -> u64 {
        match self.last_randomness {
            Some(cached)
                if bytes_eq(&self.last_trace, trace_id)
                    && bytes_eq(self.last_trace_state.as_bytes(), trace_state.as_bytes()) =>
            {
                cached.value
            }
            _ => {
                let fresh = randomness(trace_id, trace_state);
                self.report.malformed_rv += u64::from(fresh.malformed_rv);
                self.last_trace.clear();
                self.last_trace.extend_from_slice(trace_id);
                self.last_trace_state.clear();
                self.last_trace_state.push_str(trace_state);
                self.last_randomness = Some(fresh);
                fresh.value
            }
        }
    }

    /// Decides every span of one trace, applies the overrides and the structure pass,
    /// and adds the result to the report. `spans` are the spans of one trace in any
    /// order (the latency windows see them in this order). The budget scale is taken
    /// once per trace, at its earliest span start, so every `sample` rule decides the
    /// whole trace alike.
    pub fn sample_trace(&mut self, spans: &[SpanView<'_>]) -> TraceOutcome {
        // One budget scale for the whole trace, taken at its earliest start, so that the
        // spans of a trace under one rule are decided alike.
        let trace_scale = match &mut self.budget {
            Some(budget) => spans
                .iter()
                .map(|s| s.start_unix_nano)
                .min()
                .map(|start| budget.advance(start)),
            None => None,
        };
        self.decided.clear();
        self.decisions.clear();
        for span in spans {
            let decision = self.decide_quietly(span, trace_scale);
            self.decided
                .push(decision.keep.then_some(match decision.override_fired {
                    None => KeepReason::Rule,
                    Some(OverrideKind::Error) => KeepReason::Error,
                    Some(OverrideKind::Latency) => KeepReason::Latency,
                }));
            self.decisions.push(decision);
        }
        let repairs = self
            .structure
            .run(spans, &self.decided, self.mode, &mut self.placements);
        // The outcomes are written once, with their placements, and counted as they are.
        let report = &mut self.report;
        let outcomes: Vec<SpanOutcome> = self
            .decisions
            .iter()
            .zip(&self.placements)
            .map(|(decision, placement)| {
                let outcome = SpanOutcome {
                    decision: *decision,
                    kept: placement.kept,
                    parent: placement.parent,
                    dropped_between: placement.dropped_between,
                };
                report.record_span(&outcome);
                outcome
            })
            .collect();
        report.record_trace_totals(&repairs);
        TraceOutcome {
            spans: outcomes,
            repairs,
        }
    }
}
