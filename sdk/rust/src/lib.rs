//! Autoscope's span-level sampler for the OpenTelemetry Rust SDK.
//!
//! One line of setup, given the policy `autoscope analyze` wrote and the resource's
//! `service.name`:
//!
//! ```no_run
//! use autoscope_otel::{Autoscope, AutoscopeExt};
//! use opentelemetry_sdk::trace::{SdkTracerProvider, SimpleSpanProcessor};
//! # fn main() -> Result<(), autoscope_otel::Error> {
//! # let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
//! let provider = SdkTracerProvider::builder()
//!     .with_autoscope(&Autoscope::from_path("policy.json", "checkout")?, SimpleSpanProcessor::new(exporter))
//!     .build();
//! # Ok(()) }
//! ```
//!
//! - [`AutoscopeSampler`] (a `ShouldSample`) decides each span at its start exactly as
//!   the runtime does (`runtime_sampler::Decider`: name, kind, start attributes,
//!   service, and the trace's randomness — the `rv` of the parent's `ot` tracestate
//!   entry, else the trace id's low 56 bits) and writes `ot=th:…` into the tracestate of
//!   the spans it samples. When the policy keeps error spans or latency outliers, a
//!   dropped span is still recorded (`RecordOnly`) so that its end can be seen.
//! - [`AutoscopeProcessor`] wraps the exporter's processor: it passes sampled spans on,
//!   and also a recorded span that ends with error status (or is a latency outlier by
//!   the policy's latency override), marked sampled; then every local ancestor of an
//!   exported span when that ancestor ends (sampled children of unsampled parents
//!   included), so no exported span misses a parent that ran in this process and ended
//!   after it. It holds only a set of span ids waiting to be kept, never spans.

use opentelemetry::trace::{
    Link, SpanContext, SpanId, SpanKind as OtelSpanKind, Status, TraceContextExt, TraceId,
    TraceState,
};
use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    SamplingDecision, SamplingResult, ShouldSample, Span, SpanData, SpanProcessor,
    TracerProviderBuilder,
};
use policy_schema::Policy;
use runtime_sampler::consistent::{encode_th, randomness_from_ot};
use runtime_sampler::latency::{LatencyKey, LatencyTracker};
use runtime_sampler::{AttributeValue, Decider, HeadDecision, SpanAttributes, SpanKind, SpanStart};
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use thiserror::Error;

/// Span ids a processor holds at most while they wait for their span to end; beyond it
/// an ancestor is not kept (counted in [`ProcessorStats::waiting_overflow`]).
pub const MAX_WAITING: usize = 1 << 16;

/// Why a sampler could not be built.
#[derive(Debug, Error)]
pub enum Error {
    /// The policy file could not be read or is invalid.
    #[error(transparent)]
    Load(#[from] policy_schema::LoadError),
    /// The policy does not compile.
    #[error(transparent)]
    Compile(#[from] runtime_sampler::CompileError),
}

#[derive(Debug)]
struct Shared {
    decider: Decider,
    service: String,
    keep_errors: bool,
    latency: Option<Mutex<LatencyTracker>>,
}

impl Shared {
    /// Dropped spans must be recorded when an override may keep them at their end.
    fn records_dropped(&self) -> bool {
        self.keep_errors || self.latency.is_some()
    }
}

/// A loaded policy for one service: hands out the sampler and the processor, which
/// share it.
#[derive(Debug, Clone)]
pub struct Autoscope {
    shared: Arc<Shared>,
}

impl Autoscope {
    /// Loads and compiles the policy at `path` for the service `service_name` (the
    /// resource's `service.name`).
    pub fn from_path(path: impl AsRef<Path>, service_name: &str) -> Result<Self, Error> {
        let policy = policy_schema::from_path(path.as_ref())?;
        Self::new(&policy, service_name)
    }

    /// Compiles `policy` for the service `service_name`.
    pub fn new(policy: &Policy, service_name: &str) -> Result<Self, Error> {
        let decider = Decider::new(policy)?;
        let latency = policy.overrides.latency.as_ref().map(|config| {
            let matchers = policy.rules.iter().map(|r| r.matchers.len()).sum();
            Mutex::new(LatencyTracker::new(config, matchers))
        });
        Ok(Self {
            shared: Arc::new(Shared {
                decider,
                service: service_name.to_string(),
                keep_errors: policy.overrides.keep_errors,
                latency,
            }),
        })
    }

    /// The sampler, for `TracerProviderBuilder::with_sampler`.
    pub fn sampler(&self) -> AutoscopeSampler {
        AutoscopeSampler {
            shared: Arc::clone(&self.shared),
        }
    }

    /// The processor wrapping `next` (the exporter's processor), for
    /// `TracerProviderBuilder::with_span_processor`.
    pub fn processor<P: SpanProcessor>(&self, next: P) -> AutoscopeProcessor<P> {
        AutoscopeProcessor {
            next,
            shared: Arc::clone(&self.shared),
            waiting: Mutex::new(HashSet::new()),
            waiting_len: AtomicUsize::new(0),
            counters: Counters::default(),
        }
    }
}

/// Installs an [`Autoscope`] policy on a tracer provider builder.
pub trait AutoscopeExt {
    /// Sets the policy's sampler and adds its processor wrapping `next` (the processor
    /// that exports, e.g. `SimpleSpanProcessor::new(exporter)` or a batch processor).
    fn with_autoscope<P: SpanProcessor + 'static>(self, autoscope: &Autoscope, next: P) -> Self;
}

impl AutoscopeExt for TracerProviderBuilder {
    fn with_autoscope<P: SpanProcessor + 'static>(self, autoscope: &Autoscope, next: P) -> Self {
        self.with_sampler(autoscope.sampler())
            .with_span_processor(autoscope.processor(next))
    }
}

/// OpenTelemetry attributes as rule conditions see them: the first attribute with a key
/// counts; arrays count as absent.
#[derive(Debug, Clone, Copy)]
pub struct OtelAttributes<'a>(pub &'a [KeyValue]);

impl SpanAttributes for OtelAttributes<'_> {
    fn attribute(&self, key: &str) -> Option<AttributeValue<'_>> {
        let found = self.0.iter().find(|kv| kv.key.as_str() == key)?;
        match &found.value {
            Value::Bool(value) => Some(AttributeValue::Bool(*value)),
            Value::I64(value) => Some(AttributeValue::Int(*value)),
            Value::F64(value) => Some(AttributeValue::Double(*value)),
            Value::String(value) => Some(AttributeValue::Str(value.as_str())),
            _ => None,
        }
    }
}

/// The policy's name for an OpenTelemetry span kind.
pub fn span_kind(kind: &OtelSpanKind) -> SpanKind {
    match kind {
        OtelSpanKind::Client => SpanKind::Client,
        OtelSpanKind::Server => SpanKind::Server,
        OtelSpanKind::Producer => SpanKind::Producer,
        OtelSpanKind::Consumer => SpanKind::Consumer,
        OtelSpanKind::Internal => SpanKind::Internal,
    }
}

/// The `ShouldSample` of a policy (see the crate docs).
#[derive(Debug, Clone)]
pub struct AutoscopeSampler {
    shared: Arc<Shared>,
}

impl AutoscopeSampler {
    /// The head decision of a span of this service at its start, from raw trace id bytes
    /// and a tracestate header: the function the conformance vectors pin.
    pub fn decide_start(&self, start: &SpanStart<'_>) -> HeadDecision {
        self.shared.decider.decide(start)
    }

    /// The head decision from what the SDK hands a sampler.
    pub fn decide(
        &self,
        trace_id: TraceId,
        parent_state: &TraceState,
        name: &str,
        kind: &OtelSpanKind,
        attributes: &[KeyValue],
    ) -> HeadDecision {
        let id = trace_id.to_bytes();
        let randomness = randomness_from_ot(&id, parent_state.get("ot"));
        let attributes = OtelAttributes(attributes);
        let start = SpanStart {
            trace_id: &id,
            trace_state: "",
            service: &self.shared.service,
            name,
            kind: Some(span_kind(kind)),
            attributes: &attributes,
        };
        self.shared
            .decider
            .decide_with_randomness(&start, randomness)
    }
}

/// `parent` with `th` set in its `ot` entry (other `ot` parts and other entries kept).
pub fn with_threshold(parent: &TraceState, th: &str) -> TraceState {
    let mut value = format!("th:{th}");
    if let Some(ot) = parent.get("ot") {
        for part in ot
            .split(';')
            .filter(|p| !p.is_empty() && !p.starts_with("th:"))
        {
            value.push(';');
            value.push_str(part);
        }
    }
    // An `ot` value that the W3C rules reject (too long) leaves the parent's state.
    parent
        .insert("ot", value)
        .unwrap_or_else(|_| parent.clone())
}

impl ShouldSample for AutoscopeSampler {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &OtelSpanKind,
        attributes: &[KeyValue],
        _links: &[Link],
    ) -> SamplingResult {
        let parent_state = parent_context
            .map(|cx| cx.span().span_context().trace_state().clone())
            .unwrap_or_default();
        let decision = self.decide(trace_id, &parent_state, name, span_kind, attributes);
        if decision.sampled {
            let trace_state = match encode_th(decision.threshold) {
                Some(th) => with_threshold(&parent_state, th.as_str()),
                None => parent_state,
            };
            SamplingResult {
                decision: SamplingDecision::RecordAndSample,
                attributes: Vec::new(),
                trace_state,
            }
        } else {
            SamplingResult {
                decision: if self.shared.records_dropped() {
                    SamplingDecision::RecordOnly
                } else {
                    SamplingDecision::Drop
                },
                attributes: Vec::new(),
                trace_state: parent_state,
            }
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    kept_by_error: AtomicU64,
    kept_by_latency: AtomicU64,
    kept_as_ancestor: AtomicU64,
    dropped: AtomicU64,
    waiting_overflow: AtomicU64,
}

/// What a processor did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessorStats {
    /// Unsampled spans exported because they ended with error status.
    pub kept_by_error: u64,
    /// Unsampled spans exported as latency outliers.
    pub kept_by_latency: u64,
    /// Unsampled spans exported as local ancestors of exported spans.
    pub kept_as_ancestor: u64,
    /// Recorded, unsampled spans not exported.
    pub dropped: u64,
    /// Span ids waiting for their span to end (an ancestor of an exported span that has
    /// not ended; one that ended before its descendant, or ran elsewhere, stays here).
    pub waiting: u64,
    /// Ancestors not kept because [`MAX_WAITING`] ids were already waiting.
    pub waiting_overflow: u64,
}

/// The processor of a policy (see the crate docs), wrapping the exporter's processor.
#[derive(Debug)]
pub struct AutoscopeProcessor<P> {
    next: P,
    shared: Arc<Shared>,
    waiting: Mutex<HashSet<SpanId>>,
    /// `waiting.len()`, read without the lock: most spans end with nothing waiting.
    waiting_len: AtomicUsize,
    counters: Counters,
}

impl<P> AutoscopeProcessor<P> {
    /// The counts so far.
    pub fn stats(&self) -> ProcessorStats {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        ProcessorStats {
            kept_by_error: load(&self.counters.kept_by_error),
            kept_by_latency: load(&self.counters.kept_by_latency),
            kept_as_ancestor: load(&self.counters.kept_as_ancestor),
            dropped: load(&self.counters.dropped),
            waiting: self.waiting_len.load(Ordering::Relaxed) as u64,
            waiting_overflow: load(&self.counters.waiting_overflow),
        }
    }

    fn wait_for(&self, parent: SpanId) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        if waiting.len() >= MAX_WAITING && !waiting.contains(&parent) {
            self.counters
                .waiting_overflow
                .fetch_add(1, Ordering::Relaxed);
            return;
        }
        waiting.insert(parent);
        self.waiting_len.store(waiting.len(), Ordering::Relaxed);
    }

    /// Whether `id` was waiting (and no longer is).
    fn stop_waiting(&self, id: SpanId) -> bool {
        if self.waiting_len.load(Ordering::Relaxed) == 0 {
            return false;
        }
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        let was = waiting.remove(&id);
        self.waiting_len.store(waiting.len(), Ordering::Relaxed);
        was
    }

    /// Feeds the latency window of the span's rule; whether it is an outlier.
    fn latency_outlier(&self, span: &SpanData) -> bool {
        let Some(latency) = &self.shared.latency else {
            return false;
        };
        let attributes = OtelAttributes(&span.attributes);
        let start = SpanStart {
            trace_id: &[],
            trace_state: "",
            service: &self.shared.service,
            name: &span.name,
            kind: Some(span_kind(&span.span_kind)),
            attributes: &attributes,
        };
        let found = self.shared.decider.rule_for(&start);
        let nanos = span
            .end_time
            .duration_since(span.start_time)
            .unwrap_or_default()
            .as_nanos();
        let mut tracker = latency.lock().unwrap_or_else(|e| e.into_inner());
        tracker.observe(
            &self.shared.service,
            LatencyKey::for_match(found, &span.name),
            u64::try_from(nanos).unwrap_or(u64::MAX),
        )
    }
}

impl<P: SpanProcessor> SpanProcessor for AutoscopeProcessor<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        use opentelemetry::trace::Span as _;
        self.next.on_start(span, cx);
        let own = span.span_context();
        if !own.is_sampled() {
            return;
        }
        // A sampled span under a local, unsampled parent: keep the parent when it ends.
        let parent_span = cx.span();
        let parent = parent_span.span_context();
        if parent.is_valid()
            && !parent.is_remote()
            && !parent.is_sampled()
            && parent.trace_id() == own.trace_id()
        {
            self.wait_for(parent.span_id());
        }
    }

    fn on_end(&self, mut span: SpanData) {
        let outlier = self.latency_outlier(&span);
        let id = span.span_context.span_id();
        if span.span_context.is_sampled() {
            self.stop_waiting(id);
            self.next.on_end(span);
            return;
        }
        let counter = if self.shared.keep_errors && matches!(span.status, Status::Error { .. }) {
            &self.counters.kept_by_error
        } else if outlier {
            &self.counters.kept_by_latency
        } else if self.stop_waiting(id) {
            &self.counters.kept_as_ancestor
        } else {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        counter.fetch_add(1, Ordering::Relaxed);
        // An error span kept by the first branch may also have been waiting.
        self.stop_waiting(id);
        if span.parent_span_id != SpanId::INVALID && !span.parent_span_is_remote {
            self.wait_for(span.parent_span_id);
        }
        let context = &span.span_context;
        span.span_context = SpanContext::new(
            context.trace_id(),
            id,
            context.trace_flags().with_sampled(true),
            context.is_remote(),
            context.trace_state().clone(),
        );
        self.next.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.next.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.next.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.next.set_resource(resource);
    }
}
