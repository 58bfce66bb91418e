//! Totals over everything a sampler decided: spans in and out per rule, per override,
//! ancestors kept, structure repairs. Rendered in policy rule order, so the text is
//! deterministic.

use crate::sampler::{DecidedBy, Decision, OverrideKind, SpanOutcome};
use crate::structure::{KeepReason, StructureRepairs};
use policy_schema::Policy;
use std::fmt;

/// Counts for one rule (or the default action).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleCounts {
    /// The rule id (`(default)` for the default action).
    pub id: String,
    /// Spans this rule decided.
    pub spans_in: u64,
    /// Spans its action kept.
    pub kept_by_rule: u64,
    /// Spans its action dropped but the error override kept.
    pub kept_by_error: u64,
    /// Spans its action dropped but the latency override kept.
    pub kept_by_latency: u64,
    /// Spans dropped by decision but kept as ancestors of kept spans.
    pub kept_as_ancestor: u64,
    /// Sum of the adjusted counts of the spans its action kept (an estimate of
    /// `spans_in` for sampled rules).
    pub adjusted_total: f64,
}

impl RuleCounts {
    /// Spans of this rule in the output.
    pub fn spans_out(&self) -> u64 {
        self.kept_by_rule + self.kept_by_error + self.kept_by_latency + self.kept_as_ancestor
    }
}

/// Totals over all traces (and single spans) a sampler saw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// Traces fed to `sample_trace`.
    pub traces: u64,
    /// Per rule in policy order, then the default action last.
    pub rules: Vec<RuleCounts>,
    /// Structure repairs summed over traces.
    pub repairs: StructureRepairs,
    /// Traces (runs of spans of one trace id and tracestate) whose tracestate had an
    /// `rv` that was not 14 lowercase hex digits: ignored, randomness from the trace id.
    pub malformed_rv: u64,
}

impl Report {
    pub(crate) fn new(policy: &Policy) -> Self {
        let mut rules: Vec<RuleCounts> = policy
            .rules
            .iter()
            .map(|r| RuleCounts {
                id: r.id.clone(),
                ..RuleCounts::default()
            })
            .collect();
        rules.push(RuleCounts {
            id: "(default)".into(),
            ..RuleCounts::default()
        });
        Self {
            traces: 0,
            rules,
            repairs: StructureRepairs::default(),
            malformed_rv: 0,
        }
    }

    fn counts_mut(&mut self, decided_by: DecidedBy) -> &mut RuleCounts {
        let last = self.rules.len() - 1;
        let index = match decided_by {
            DecidedBy::Rule(i) => i.min(last),
            DecidedBy::Default => last,
        };
        &mut self.rules[index]
    }

    pub(crate) fn record_decision(&mut self, decision: &Decision) {
        let counts = self.counts_mut(decision.decided_by);
        // Branch-free: whether a span is kept, and why, is unpredictable per span. An
        // override only fires on a kept span; adding 0.0 leaves the total unchanged.
        let by_rule = decision.keep && decision.override_fired.is_none();
        counts.spans_in += 1;
        counts.kept_by_rule += u64::from(by_rule);
        counts.adjusted_total += if by_rule {
            decision.adjusted_count
        } else {
            0.0
        };
        counts.kept_by_error += u64::from(decision.override_fired == Some(OverrideKind::Error));
        counts.kept_by_latency += u64::from(decision.override_fired == Some(OverrideKind::Latency));
    }

    /// Counts one span of a trace (its decision and whether it was kept as an ancestor);
    /// [`Report::record_trace_totals`] counts the trace once all its spans are in.
    pub(crate) fn record_span(&mut self, outcome: &SpanOutcome) {
        self.record_decision(&outcome.decision);
        if outcome.kept == Some(KeepReason::Ancestor) {
            self.counts_mut(outcome.decision.decided_by)
                .kept_as_ancestor += 1;
        }
    }

    /// Counts a trace whose spans [`Report::record_span`] counted.
    pub(crate) fn record_trace_totals(&mut self, repairs: &StructureRepairs) {
        self.traces += 1;
        self.repairs.add(repairs);
    }

    /// Spans seen.
    pub fn spans_in(&self) -> u64 {
        self.rules.iter().map(|r| r.spans_in).sum()
    }

    /// Spans kept.
    pub fn spans_out(&self) -> u64 {
        self.rules.iter().map(RuleCounts::spans_out).sum()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (spans_in, spans_out) = (self.spans_in(), self.spans_out());
        let share = if spans_in == 0 {
            0.0
        } else {
            100.0 * spans_out as f64 / spans_in as f64
        };
        writeln!(
            f,
            "traces {}  spans in {spans_in}  spans out {spans_out} ({share:.1}%)",
            self.traces
        )?;
        writeln!(
            f,
            "{:<32} {:>10} {:>10} {:>8} {:>8} {:>8} {:>8}",
            "rule", "in", "out", "rule", "error", "latency", "ancestor"
        )?;
        for r in &self.rules {
            writeln!(
                f,
                "{:<32} {:>10} {:>10} {:>8} {:>8} {:>8} {:>8}",
                r.id,
                r.spans_in,
                r.spans_out(),
                r.kept_by_rule,
                r.kept_by_error,
                r.kept_by_latency,
                r.kept_as_ancestor
            )?;
        }
        let total = |field: fn(&RuleCounts) -> u64| self.rules.iter().map(field).sum::<u64>();
        writeln!(
            f,
            "kept by rules {}, by the error override {}, by the latency override {}, \
             as ancestors {}",
            total(|r| r.kept_by_rule),
            total(|r| r.kept_by_error),
            total(|r| r.kept_by_latency),
            total(|r| r.kept_as_ancestor)
        )?;
        let StructureRepairs {
            roots,
            several_roots,
            missing_parents,
            duplicate_span_ids,
            cycles_broken,
        } = self.repairs;
        writeln!(
            f,
            "structure: roots {roots}, traces with several roots {several_roots}, \
             missing parents {missing_parents}, duplicate span ids {duplicate_span_ids}, \
             cycles broken {cycles_broken}"
        )?;
        if self.malformed_rv > 0 {
            writeln!(
                f,
                "tracestate: {} malformed rv values ignored (randomness from the trace id)",
                self.malformed_rv
            )?;
        }
        Ok(())
    }
}
