//! Prometheus metrics, served on the admin address at `/metrics` (OpenMetrics text).
//!
//! Every span the gateway accepts ends in exactly one of: kept (forwarded and/or
//! archived), dropped by decision, or dropped by a counted failure, so
//! `autoscope_spans_received_total = kept + dropped` once the buffer is empty.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

/// Labels naming a receiver protocol.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Protocol {
    /// `grpc` or `http`.
    pub protocol: String,
}

/// Labels of a per-rule decision count.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RuleOutcome {
    /// Rule id, or `(default)`.
    pub rule: String,
    /// `rule`, `error`, `latency`, `ancestor` (kept, and why) or `dropped`.
    pub outcome: String,
}

/// Labels of a reason.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    /// Why.
    pub reason: String,
}

/// Labels of a forward target.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Target {
    /// The `--forward` URL.
    pub target: String,
}

/// Labels of a rejected request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Rejection {
    /// `grpc` or `http`.
    pub protocol: String,
    /// `malformed`, `unsupported_media_type`, `too_large`, `unauthenticated`,
    /// `throttled`, `invalid_span`.
    pub reason: String,
}

/// All metrics of one gateway.
#[derive(Debug)]
pub struct Metrics {
    /// The registry they are registered in.
    pub registry: Registry,
    /// Spans accepted by a receiver (valid spans of accepted requests).
    pub spans_received: Family<Protocol, Counter>,
    /// Requests (or spans, for `invalid_span`) refused, by reason.
    pub rejected: Family<Rejection, Counter>,
    /// Spans decided, by rule and outcome.
    pub decided: Family<RuleOutcome, Counter>,
    /// Spans kept.
    pub spans_kept: Counter,
    /// Encoded bytes of the spans decided (the controller's unit).
    pub bytes_decided: Counter,
    /// Encoded bytes of the spans kept.
    pub bytes_kept: Counter,
    /// Spans dropped, by reason (`decision`, `export`).
    pub spans_dropped: Family<Reason, Counter>,
    /// Overrides that kept a span its rule dropped, by kind.
    pub overrides: Family<Reason, Counter>,
    /// Traces closed, by reason (`complete`, `deadline`, `overflow`, `flush`).
    pub traces_closed: Family<Reason, Counter>,
    /// Late spans, by outcome (`kept`, `dropped`, `repaired`, `forgotten`).
    pub late_spans: Family<Reason, Counter>,
    /// Traces open in the assembler.
    pub traces_buffered: Gauge,
    /// Spans buffered in the assembler.
    pub spans_buffered: Gauge,
    /// Bytes buffered in the assembler.
    pub bytes_buffered: Gauge,
    /// Seconds from a trace's first span to its decision.
    pub decision_latency: Histogram,
    /// The rate controller's factor on `sample` rates.
    pub controller_scale: Gauge<f64, AtomicU64>,
    /// Kept share (bytes) measured in the controller's last window.
    pub controller_kept_share: Gauge<f64, AtomicU64>,
    /// Export attempts that failed, by target.
    pub export_failures: Family<Target, Counter>,
    /// Spans exported, by target.
    pub spans_exported: Family<Target, Counter>,
    /// Spans waiting in the export queue, by target.
    pub export_queue_spans: Family<Target, Gauge>,
    /// Bytes of kept spans spilled to disk and not yet replayed, by target.
    pub spill_bytes: Family<Target, Gauge>,
    /// Spans written to the archive.
    pub archived_spans: Counter,
    /// Policy reloads, by outcome (`ok`, `failed`).
    pub policy_reloads: Family<Reason, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates and registers every metric under the `autoscope` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("autoscope");
        let metrics = Self {
            spans_received: Family::default(),
            rejected: Family::default(),
            decided: Family::default(),
            spans_kept: Counter::default(),
            bytes_decided: Counter::default(),
            bytes_kept: Counter::default(),
            spans_dropped: Family::default(),
            overrides: Family::default(),
            traces_closed: Family::default(),
            late_spans: Family::default(),
            traces_buffered: Gauge::default(),
            spans_buffered: Gauge::default(),
            bytes_buffered: Gauge::default(),
            decision_latency: Histogram::new(exponential_buckets(0.05, 2.0, 12)),
            controller_scale: Gauge::default(),
            controller_kept_share: Gauge::default(),
            export_failures: Family::default(),
            spans_exported: Family::default(),
            export_queue_spans: Family::default(),
            spill_bytes: Family::default(),
            archived_spans: Counter::default(),
            policy_reloads: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "spans_received",
            "Spans accepted by a receiver",
            metrics.spans_received.clone(),
        );
        registry.register(
            "rejected",
            "Requests (and invalid spans) refused, by protocol and reason",
            metrics.rejected.clone(),
        );
        registry.register(
            "spans_decided",
            "Spans decided, by rule and outcome",
            metrics.decided.clone(),
        );
        registry.register("spans_kept", "Spans kept", metrics.spans_kept.clone());
        registry.register(
            "bytes_decided",
            "Encoded bytes of the spans decided",
            metrics.bytes_decided.clone(),
        );
        registry.register(
            "bytes_kept",
            "Encoded bytes of the spans kept",
            metrics.bytes_kept.clone(),
        );
        registry.register(
            "spans_dropped",
            "Spans dropped, by reason",
            metrics.spans_dropped.clone(),
        );
        registry.register(
            "overrides",
            "Overrides that kept a span its rule dropped",
            metrics.overrides.clone(),
        );
        registry.register(
            "traces_closed",
            "Traces closed for decision, by reason",
            metrics.traces_closed.clone(),
        );
        registry.register(
            "late_spans",
            "Spans that arrived after their trace was decided",
            metrics.late_spans.clone(),
        );
        registry.register(
            "traces_buffered",
            "Traces open in the assembler",
            metrics.traces_buffered.clone(),
        );
        registry.register(
            "spans_buffered",
            "Spans buffered in the assembler",
            metrics.spans_buffered.clone(),
        );
        registry.register(
            "bytes_buffered",
            "Bytes buffered in the assembler",
            metrics.bytes_buffered.clone(),
        );
        registry.register(
            "decision_latency_seconds",
            "Time from a trace's first span to its decision",
            metrics.decision_latency.clone(),
        );
        registry.register(
            "controller_scale",
            "The rate controller's factor on sample rates",
            metrics.controller_scale.clone(),
        );
        registry.register(
            "controller_kept_share",
            "Kept share of bytes in the controller's last window",
            metrics.controller_kept_share.clone(),
        );
        registry.register(
            "export_failures",
            "Export attempts that failed",
            metrics.export_failures.clone(),
        );
        registry.register(
            "spans_exported",
            "Spans delivered to a forward target",
            metrics.spans_exported.clone(),
        );
        registry.register(
            "export_queue_spans",
            "Spans waiting in a forward target's queue",
            metrics.export_queue_spans.clone(),
        );
        registry.register(
            "spill_bytes",
            "Bytes of kept spans spilled to disk, not yet replayed",
            metrics.spill_bytes.clone(),
        );
        registry.register(
            "archived_spans",
            "Spans written to the archive",
            metrics.archived_spans.clone(),
        );
        registry.register(
            "policy_reloads",
            "Policy reloads, by outcome",
            metrics.policy_reloads.clone(),
        );
        metrics.controller_scale.set(1.0);
        Self {
            registry,
            ..metrics
        }
    }

    /// The OpenMetrics text of every metric.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    /// Spans received over `protocol` so far.
    pub fn received(&self, protocol: &str) -> u64 {
        self.spans_received
            .get_or_create(&Protocol {
                protocol: protocol.into(),
            })
            .get()
    }

    /// Counts a refused request.
    pub fn reject(&self, protocol: &str, reason: &str) {
        self.reject_n(protocol, reason, 1);
    }

    /// Counts `n` refusals.
    pub fn reject_n(&self, protocol: &str, reason: &str, n: u64) {
        self.rejected
            .get_or_create(&Rejection {
                protocol: protocol.into(),
                reason: reason.into(),
            })
            .inc_by(n);
    }

    /// Adds to a counter family keyed by reason.
    pub fn count(family: &Family<Reason, Counter>, reason: &str, n: u64) {
        if n > 0 {
            family
                .get_or_create(&Reason {
                    reason: reason.into(),
                })
                .inc_by(n);
        }
    }
}
