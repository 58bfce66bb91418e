//! The decider: one thread that owns the trace assembler, the runtime sampler and the
//! rate controller. Receivers hand it the spans of each accepted request; it buffers
//! them, closes traces as they complete (or at their deadline, or early when the buffer
//! is over its limits), decides them with the unchanged `Sampler::sample_trace` and its
//! structure pass, and hands the kept spans to the outputs (forwarders, archive).
//!
//! Late spans (their trace already decided) are decided alone against the cached
//! decision: the span's own rule and the trace's consistent randomness decide it as its
//! siblings were; a late span that is the missing parent of a kept span is kept as its
//! ancestor (`keep-ancestors`); a kept late span whose parent was dropped points to its
//! nearest kept ancestor, and is counted as repaired.

use crate::intake::{BufferedSpan, EncodedAttributes, Origin, TraceKey};
use crate::metrics::{Metrics, RuleOutcome};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1 as pb;
use policy_schema::{Policy, StructureMode};
use runtime_sampler::{
    DecidedBy, KeepReason, NewParent, OverrideKind, RateController, Sampler, SpanView,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::Sender;
use trace_assembly::{Assembler, CloseReason, Closed, Limits, Pushed};

/// A kept span on its way out, with its resource and scope.
#[derive(Debug, Clone)]
pub struct KeptSpan {
    /// Resource and scope.
    pub origin: Arc<Origin>,
    /// The span as it is written: its parent edited by the structure pass and, when
    /// sampled, `sampling.adjusted_count` added.
    pub span: pb::Span,
    /// Its encoded size in the input (the controller's unit).
    pub bytes: usize,
}

/// The kept spans of one decision round, shared by every output.
pub type KeptBatch = Arc<Vec<KeptSpan>>;

/// What a decided trace leaves behind for its late spans.
#[derive(Debug, Default)]
pub struct TraceMemory {
    /// (span id, parent id, kept), sorted by span id.
    links: Vec<(u64, u64, bool)>,
    /// Parent ids that kept spans point to but the trace did not contain.
    missing_parents: Vec<u64>,
}

impl TraceMemory {
    fn find(&self, span_id: u64) -> Option<(u64, bool)> {
        self.links
            .binary_search_by_key(&span_id, |l| l.0)
            .ok()
            .map(|i| (self.links[i].1, self.links[i].2))
    }

    fn insert(&mut self, span_id: u64, parent: u64, kept: bool) {
        match self.links.binary_search_by_key(&span_id, |l| l.0) {
            Ok(i) => self.links[i].2 |= kept,
            Err(i) => self.links.insert(i, (span_id, parent, kept)),
        }
    }

    /// Memory this entry holds (for sizing the cache).
    pub fn memory_bytes(&self) -> usize {
        self.links.len() * 24 + self.missing_parents.len() * 8 + 64
    }
}

/// Messages to the decider.
#[derive(Debug)]
pub enum Command {
    /// The valid spans of one request.
    Spans(Vec<(TraceKey, BufferedSpan)>, usize),
    /// A new policy, compiled.
    Policy(Box<Policy>, Box<Sampler>),
    /// Decide everything buffered now, hand it to the outputs, then stop.
    Shutdown,
}

/// Settings of the decider.
#[derive(Debug, Clone)]
pub struct DeciderConfig {
    /// Assembler limits (nanoseconds of the monotonic clock since start).
    pub limits: Limits,
    /// Hold the policy's target with the rate controller.
    pub adaptive: bool,
    /// The controller's window (ns of event time).
    pub controller_window_nanos: u64,
}

/// What the receivers share with the decider to admit requests.
#[derive(Debug, Default)]
pub struct Admission {
    /// Bytes sent to the decider and not yet buffered.
    pub in_flight_bytes: AtomicUsize,
    /// Set while an output cannot take more (queue full and no spill): receivers push
    /// back.
    pub outputs_blocked: AtomicBool,
}

/// The decider's state.
pub struct Decider {
    assembler: Assembler<TraceKey, BufferedSpan, TraceMemory>,
    sampler: Sampler,
    policy: Policy,
    controller: Option<RateController>,
    config: DeciderConfig,
    metrics: Arc<Metrics>,
    outputs: Vec<Sender<KeptBatch>>,
    admission: Arc<Admission>,
    start: Instant,
    pending: Vec<KeptSpan>,
    /// Per rule (then default): kept by rule, error, latency, ancestor, dropped.
    counts: Vec<[u64; 5]>,
    rule_ids: Vec<String>,
}

impl std::fmt::Debug for Decider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decider")
            .field("buffered_spans", &self.assembler.buffered_spans())
            .finish_non_exhaustive()
    }
}

fn id64(id: &[u8; 8]) -> u64 {
    u64::from_be_bytes(*id)
}

fn rule_ids(policy: &Policy) -> Vec<String> {
    policy
        .rules
        .iter()
        .map(|r| r.id.clone())
        .chain(["(default)".to_string()])
        .collect()
}

impl Decider {
    /// A decider for `policy`, sending kept spans to `outputs`.
    pub fn new(
        policy: Policy,
        sampler: Sampler,
        config: DeciderConfig,
        metrics: Arc<Metrics>,
        outputs: Vec<Sender<KeptBatch>>,
        admission: Arc<Admission>,
    ) -> Self {
        let controller = config.adaptive.then(|| {
            RateController::new(
                1.0 - policy.target_reduction,
                config.controller_window_nanos,
            )
        });
        Self {
            assembler: Assembler::new(config.limits),
            counts: vec![[0; 5]; policy.rules.len() + 1],
            rule_ids: rule_ids(&policy),
            sampler,
            policy,
            controller,
            config,
            metrics,
            outputs,
            admission,
            start: Instant::now(),
            pending: Vec::new(),
        }
    }

    fn now(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// Runs until [`Command::Shutdown`] or until every sender is gone; then decides
    /// everything buffered and flushes it to the outputs.
    pub fn run(mut self, commands: Receiver<Command>) {
        loop {
            let timeout = match self.assembler.next_due() {
                Some(due) => Duration::from_nanos(due.saturating_sub(self.now())),
                None => Duration::from_millis(500),
            };
            match commands.recv_timeout(timeout.min(Duration::from_millis(500))) {
                Ok(Command::Spans(spans, bytes)) => {
                    self.push(spans);
                    self.admission
                        .in_flight_bytes
                        .fetch_sub(bytes, Ordering::Relaxed);
                    // Take whatever else is queued before deciding: one decision round
                    // per burst.
                    while let Ok(command) = commands.try_recv() {
                        match command {
                            Command::Spans(spans, bytes) => {
                                self.push(spans);
                                self.admission
                                    .in_flight_bytes
                                    .fetch_sub(bytes, Ordering::Relaxed);
                            }
                            other => {
                                if self.handle_other(other) {
                                    return self.finish();
                                }
                            }
                        }
                        if self.pending.len() > 4096 {
                            break;
                        }
                    }
                }
                Ok(other) => {
                    if self.handle_other(other) {
                        return self.finish();
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return self.finish(),
            }
            self.close_due();
            self.flush_outputs();
        }
    }

    /// Handles a command other than spans; true to stop.
    fn handle_other(&mut self, command: Command) -> bool {
        match command {
            Command::Spans(..) => false,
            Command::Policy(policy, sampler) => {
                self.counts = vec![[0; 5]; policy.rules.len() + 1];
                self.flush_counts();
                self.rule_ids = rule_ids(&policy);
                let mut sampler = *sampler;
                if let Some(controller) = &self.controller {
                    sampler.set_rate_scale(controller.scale());
                }
                self.sampler = sampler;
                let reset_controller = self.policy.target_reduction != policy.target_reduction;
                self.policy = *policy;
                if reset_controller && self.config.adaptive {
                    self.controller = Some(RateController::new(
                        1.0 - self.policy.target_reduction,
                        self.config.controller_window_nanos,
                    ));
                }
                false
            }
            Command::Shutdown => true,
        }
    }

    fn finish(mut self) {
        self.close_due();
        for closed in self.assembler.close_all() {
            self.decide(closed);
        }
        self.flush_outputs();
        self.update_gauges();
    }

    fn push(&mut self, spans: Vec<(TraceKey, BufferedSpan)>) {
        let now = self.now();
        for (key, span) in spans {
            let is_root = span.is_root();
            let bytes = span.memory_bytes();
            match self.assembler.push(now, key, span, is_root, bytes) {
                Pushed::Buffered => {}
                Pushed::Late(span, memory) => {
                    let outcome = decide_late(
                        &mut self.sampler,
                        self.policy.structure.mode,
                        &key,
                        span,
                        memory,
                    );
                    self.late(outcome);
                }
                // `serve` never spills.
                Pushed::Spilled(_) => {}
            }
            // Decide overflowing traces at once so the buffer stays within its limits.
            while self.assembler.buffered_spans() > self.config.limits.max_buffered_spans
                || self.assembler.buffered_bytes() > self.config.limits.max_buffered_bytes
            {
                match self.assembler.poll(now) {
                    Some(closed) => self.decide(closed),
                    None => break,
                }
            }
        }
    }

    fn late(&mut self, outcome: LateOutcome) {
        let (rule, slot) = (outcome.rule, outcome.slot);
        let last = self.counts.len() - 1;
        self.counts[rule.min(last)][slot] += 1;
        Metrics::count(&self.metrics.late_spans, outcome.label, 1);
        if outcome.repaired {
            Metrics::count(&self.metrics.late_spans, "repaired", 1);
        }
        self.metrics.bytes_decided.inc_by(outcome.bytes as u64);
        match outcome.kept {
            Some(kept) => {
                self.metrics.bytes_kept.inc_by(kept.bytes as u64);
                self.metrics.spans_kept.inc();
                self.pending.push(kept);
            }
            None => Metrics::count(&self.metrics.spans_dropped, "decision", 1),
        }
    }

    fn close_due(&mut self) {
        let now = self.now();
        while let Some(closed) = self.assembler.poll(now) {
            self.decide(closed);
        }
        self.update_gauges();
    }

    fn update_gauges(&mut self) {
        self.metrics
            .traces_buffered
            .set(self.assembler.open_traces() as i64);
        self.metrics
            .spans_buffered
            .set(self.assembler.buffered_spans() as i64);
        self.metrics
            .bytes_buffered
            .set(self.assembler.buffered_bytes() as i64);
        self.flush_counts();
    }

    fn flush_counts(&mut self) {
        const OUTCOMES: [&str; 5] = ["rule", "error", "latency", "ancestor", "dropped"];
        for (rule, counts) in self.counts.iter_mut().enumerate() {
            for (slot, count) in counts.iter_mut().enumerate() {
                if *count > 0 {
                    let id = self.rule_ids.get(rule).map_or("(default)", String::as_str);
                    self.metrics
                        .decided
                        .get_or_create(&RuleOutcome {
                            rule: id.to_string(),
                            outcome: OUTCOMES[slot].to_string(),
                        })
                        .inc_by(*count);
                    *count = 0;
                }
            }
        }
    }

    fn decide(&mut self, closed: Closed<TraceKey, BufferedSpan>) {
        let reason = match closed.reason {
            CloseReason::Complete => "complete",
            CloseReason::Deadline => "deadline",
            CloseReason::Overflow => "overflow",
            CloseReason::Flush => "flush",
        };
        Metrics::count(&self.metrics.traces_closed, reason, 1);
        let age = self.now().saturating_sub(closed.first_seen);
        self.metrics.decision_latency.observe(age as f64 / 1e9);
        let key = closed.key;
        let spans = closed.spans;
        let attributes: Vec<EncodedAttributes<'_>> = spans
            .iter()
            .map(|s| EncodedAttributes(&s.encoded))
            .collect();
        let views: Vec<SpanView<'_>> = spans
            .iter()
            .zip(&attributes)
            .map(|(s, attributes)| SpanView {
                trace_id: &key,
                span_id: &s.span_id,
                parent_span_id: (!s.is_root()).then_some(&s.parent[..]),
                trace_state: s.trace_state(),
                kind: s.span_kind(),
                attributes,
                name: s.name(),
                service: &s.origin.resource.service,
                is_error: s.is_error,
                start_unix_nano: s.start_unix_nano,
                duration_nanos: s.duration_nanos,
            })
            .collect();
        let outcome = self.sampler.sample_trace(&views);
        drop(views);
        drop(attributes);
        let mut memory = TraceMemory {
            links: Vec::with_capacity(spans.len()),
            missing_parents: Vec::new(),
        };
        let (mut bytes_in, mut bytes_kept) = (0usize, 0usize);
        let mut dropped = 0u64;
        for (index, (span, span_outcome)) in spans.iter().zip(&outcome.spans).enumerate() {
            let decision = &span_outcome.decision;
            let rule = match decision.decided_by {
                DecidedBy::Rule(i) => i,
                DecidedBy::Default => self.counts.len() - 1,
            };
            let slot = match span_outcome.kept {
                Some(KeepReason::Rule) => 0,
                Some(KeepReason::Error) => 1,
                Some(KeepReason::Latency) => 2,
                Some(KeepReason::Ancestor) => 3,
                None => 4,
            };
            let last = self.counts.len() - 1;
            self.counts[rule.min(last)][slot] += 1;
            match decision.override_fired {
                Some(OverrideKind::Error) => Metrics::count(&self.metrics.overrides, "error", 1),
                Some(OverrideKind::Latency) => {
                    Metrics::count(&self.metrics.overrides, "latency", 1)
                }
                None => {}
            }
            let size = span.encoded.len();
            bytes_in += size;
            memory.links.push((
                id64(&span.span_id),
                id64(&span.parent),
                span_outcome.kept.is_some(),
            ));
            let Some(reason) = span_outcome.kept else {
                dropped += 1;
                continue;
            };
            bytes_kept += size;
            let mut out = span.decode();
            let _ = index;
            match span_outcome.parent {
                NewParent::Root => out.parent_span_id.clear(),
                NewParent::Span(parent) => out.parent_span_id = spans[parent].span_id.to_vec(),
                NewParent::Missing(top) => {
                    let top = &spans[top];
                    memory.missing_parents.push(id64(&top.parent));
                    out.parent_span_id = top.parent.to_vec();
                }
            }
            if reason == KeepReason::Rule && decision.adjusted_count > 1.0 {
                add_adjusted_count(&mut out, decision.adjusted_count);
            }
            self.pending.push(KeptSpan {
                origin: span.origin.clone(),
                span: out,
                bytes: size,
            });
        }
        memory.links.sort_unstable_by_key(|l| l.0);
        memory.missing_parents.sort_unstable();
        memory.missing_parents.dedup();
        let kept = spans.len() as u64 - dropped;
        self.metrics.spans_kept.inc_by(kept);
        self.metrics.bytes_decided.inc_by(bytes_in as u64);
        self.metrics.bytes_kept.inc_by(bytes_kept as u64);
        Metrics::count(&self.metrics.spans_dropped, "decision", dropped);
        if let Some(controller) = &mut self.controller {
            let time = spans.iter().map(|s| s.start_unix_nano).min().unwrap_or(0);
            let scale = controller.observe(time, bytes_in as f64, bytes_kept as f64);
            self.sampler.set_rate_scale(scale);
            self.metrics.controller_scale.set(scale);
            if let Some(share) = controller.last_share() {
                self.metrics.controller_kept_share.set(share);
            }
        }
        self.assembler.remember(key, memory);
    }

    fn flush_outputs(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let batch: KeptBatch = Arc::new(std::mem::take(&mut self.pending));
        for output in &self.outputs {
            // A full output blocks the decider: receivers then push back (their
            // admission checks the in-flight bytes), nothing is dropped.
            if output.try_send(batch.clone()).is_err() {
                self.admission
                    .outputs_blocked
                    .store(true, Ordering::Relaxed);
                let _ = output.blocking_send(batch.clone());
                self.admission
                    .outputs_blocked
                    .store(false, Ordering::Relaxed);
            }
        }
    }
}

/// `sampling.adjusted_count`, as the file commands write it.
fn add_adjusted_count(span: &mut pb::Span, count: f64) {
    span.attributes.push(KeyValue {
        key: trace_formats::ADJUSTED_COUNT.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::DoubleValue(count)),
        }),
        key_strindex: 0,
    });
}

struct LateOutcome {
    bytes: usize,
    rule: usize,
    slot: usize,
    label: &'static str,
    repaired: bool,
    kept: Option<KeptSpan>,
}

fn decide_late(
    sampler: &mut Sampler,
    mode: StructureMode,
    key: &TraceKey,
    span: BufferedSpan,
    memory: &mut TraceMemory,
) -> LateOutcome {
    let attributes = EncodedAttributes(&span.encoded);
    let view = SpanView {
        trace_id: key,
        span_id: &span.span_id,
        parent_span_id: (!span.is_root()).then_some(&span.parent[..]),
        trace_state: span.trace_state(),
        kind: span.span_kind(),
        attributes: &attributes,
        name: span.name(),
        service: &span.origin.resource.service,
        is_error: span.is_error,
        start_unix_nano: span.start_unix_nano,
        duration_nanos: span.duration_nanos,
    };
    let decision = sampler.decide(&view);
    let rule = match decision.decided_by {
        DecidedBy::Rule(i) => i,
        DecidedBy::Default => usize::MAX,
    };
    let own_id = id64(&span.span_id);
    let parent_id = id64(&span.parent);
    // The missing parent of kept spans: keep it as their ancestor.
    let needed = mode == StructureMode::KeepAncestors
        && memory.missing_parents.binary_search(&own_id).is_ok();
    let reason = if decision.keep {
        Some(match decision.override_fired {
            Some(OverrideKind::Error) => KeepReason::Error,
            Some(OverrideKind::Latency) => KeepReason::Latency,
            None => KeepReason::Rule,
        })
    } else if needed {
        Some(KeepReason::Ancestor)
    } else {
        None
    };
    memory.insert(own_id, parent_id, reason.is_some());
    let slot = match reason {
        Some(KeepReason::Rule) => 0,
        Some(KeepReason::Error) => 1,
        Some(KeepReason::Latency) => 2,
        Some(KeepReason::Ancestor) => 3,
        None => 4,
    };
    let Some(reason) = reason else {
        return LateOutcome {
            bytes: span.encoded.len(),
            rule,
            slot,
            label: "dropped",
            repaired: false,
            kept: None,
        };
    };
    // Its parent in the output: the nearest kept ancestor the trace remembers.
    let mut parent = parent_id;
    let mut repaired = false;
    let mut steps = 0;
    while parent != 0 && steps < memory.links.len() {
        match memory.find(parent) {
            Some((_, true)) | None => break,
            Some((grandparent, false)) => {
                repaired = true;
                parent = grandparent;
                steps += 1;
            }
        }
    }
    let mut out = span.decode();
    out.parent_span_id = if parent == 0 {
        Vec::new()
    } else {
        parent.to_be_bytes().to_vec()
    };
    if reason == KeepReason::Rule && decision.adjusted_count > 1.0 {
        add_adjusted_count(&mut out, decision.adjusted_count);
    }
    LateOutcome {
        bytes: span.encoded.len(),
        rule,
        slot,
        label: "kept",
        repaired,
        kept: Some(KeptSpan {
            origin: span.origin.clone(),
            bytes: span.encoded.len(),
            span: out,
        }),
    }
}
