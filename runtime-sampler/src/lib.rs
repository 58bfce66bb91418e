//! Applies an Autoscope policy to spans and traces: a fast matcher, consistent
//! probability sampling, overrides (errors, latency outliers), the structure pass and an
//! event-time budget, and a rate controller that holds the kept share at the policy's
//! target.
//!
//! Typical use by a CLI: load the policy with `policy_schema::from_path`, build a
//! [`Sampler`], read a trace file, group spans by trace, build one [`SpanView`] per span,
//! call [`Sampler::sample_trace`] per trace and write the spans whose
//! [`SpanOutcome::kept`] is set, with the parent [`TraceOutcome::output_parent`] gives;
//! print [`Sampler::report`] at the end.
//!
//! ```
//! use runtime_sampler::{Sampler, SpanView};
//! let policy = policy_schema::from_json_str(r#"{
//!   "version": 1, "generator": {"tool": "doc", "version": "0"}, "target_reduction": 0.5,
//!   "default_action": {"action": "sample", "rate": 0.0},
//!   "rules": [{"id": "orders", "match": [{"template": "/orders/{id}"}], "action": {"action": "keep"}}]
//! }"#).unwrap();
//! let mut sampler = Sampler::new(&policy).unwrap();
//! let span = |id: &'static str, parent: Option<&'static str>, name: &'static str| SpanView {
//!     trace_id: b"t1", span_id: id.as_bytes(), parent_span_id: parent.map(str::as_bytes),
//!     name, service: "shop", duration_nanos: 1_000, ..SpanView::default()
//! };
//! let spans = [span("a", None, "GET /"), span("b", Some("a"), "cache"), span("c", Some("b"), "/orders/7")];
//! let outcome = sampler.sample_trace(&spans);
//! // The order span is kept by its rule, its ancestors by the structure pass.
//! assert_eq!(outcome.kept_indices().collect::<Vec<_>>(), [0, 1, 2]);
//! assert_eq!(outcome.output_parent(&spans, 2), Some(&b"b"[..]));
//! ```

pub mod budget;
pub mod canonical;
pub mod consistent;
pub mod head;
pub mod latency;
pub mod matcher;
pub mod rate_control;
pub mod report;
pub mod sampler;
pub mod span;
pub mod structure;

pub use head::{Decider, HeadDecision};
pub use matcher::{MatchKind, RuleMatch};
pub use rate_control::RateController;
pub use report::{Report, RuleCounts};
pub use sampler::{
    CompileError, DecidedBy, Decision, OverrideKind, Sampler, SpanOutcome, TraceOutcome,
};
pub use span::{
    AttributeValue, NO_ATTRIBUTES, NoAttributes, SpanAttributes, SpanKind, SpanStart, SpanView,
};
pub use structure::{
    KeepReason, NewParent, Placement, StructurePass, StructureRepairs, structure_pass,
};
