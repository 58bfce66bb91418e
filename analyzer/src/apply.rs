//! Applying a policy to a trace file: group the document's spans by trace, feed each
//! trace to the runtime sampler, and turn its outcomes into the spans to write.
//!
//! This is the glue between `trace-formats` (files ⇄ span model) and `runtime-sampler`
//! (minimal span views ⇄ decisions); both `autoscope sample` and `autoscope eval` use it,
//! so what `eval` measures is exactly what `sample` writes.

use ahash::AHashMap;
use runtime_sampler::{KeepReason, NewParent, Sampler, SpanOutcome, SpanView};
use trace_formats::{KeptSpan, ParentEdit, Span, TraceDocument};

/// The spans of a document grouped by trace id, traces in order of first appearance,
/// spans in input order within a trace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceGroups {
    /// Per trace, the indices of its spans in [`TraceDocument::spans`].
    pub traces: Vec<Vec<usize>>,
}

impl TraceGroups {
    /// Groups `spans` by trace id.
    pub fn of(spans: &[Span]) -> Self {
        let mut slot: AHashMap<&[u8], usize> = AHashMap::with_capacity(spans.len() / 4);
        let mut traces: Vec<Vec<usize>> = Vec::new();
        for (index, span) in spans.iter().enumerate() {
            let next = traces.len();
            let at = *slot.entry(span.trace_id.as_slice()).or_insert(next);
            if at == next {
                traces.push(Vec::new());
            }
            traces[at].push(index);
        }
        Self { traces }
    }
}

/// The sampler's view of a span of the model.
pub fn view(span: &Span) -> SpanView<'_> {
    SpanView {
        trace_id: &span.trace_id,
        span_id: &span.span_id,
        parent_span_id: Some(span.parent_span_id.as_slice()),
        name: &span.name,
        service: span.service_name(),
        is_error: span.is_error(),
        start_unix_nano: span.start_time_unix_nano,
        duration_nanos: span.duration_nanos(),
    }
}

/// What sampling one document decided.
#[derive(Debug, Clone, Default)]
pub struct Sampled {
    /// Per span of the document, its outcome (in document order).
    pub outcomes: Vec<Option<SpanOutcome>>,
    /// The spans to write, in document order, with their parent edits and adjusted
    /// counts.
    pub kept: Vec<KeptSpan>,
}

impl Sampled {
    /// Whether span `index` is kept.
    pub fn is_kept(&self, index: usize) -> bool {
        self.outcomes
            .get(index)
            .is_some_and(|o| o.is_some_and(|o| o.kept.is_some()))
    }
}

/// Runs `sampler` over every trace of `doc`, in order of first appearance.
pub fn sample_document(
    sampler: &mut Sampler,
    doc: &TraceDocument,
    groups: &TraceGroups,
) -> Sampled {
    let mut outcomes: Vec<Option<SpanOutcome>> = vec![None; doc.spans.len()];
    let mut views: Vec<SpanView<'_>> = Vec::new();
    for trace in &groups.traces {
        views.clear();
        views.extend(trace.iter().map(|&i| view(&doc.spans[i])));
        let outcome = sampler.sample_trace(&views);
        for (local, span_outcome) in outcome.spans.into_iter().enumerate() {
            outcomes[trace[local]] = Some(span_outcome);
        }
    }
    // Parent edits need the document index of the new parent; recompute per trace.
    let mut kept = Vec::new();
    for trace in &groups.traces {
        for &index in trace {
            let Some(outcome) = outcomes[index] else {
                continue;
            };
            let Some(reason) = outcome.kept else { continue };
            let new_parent = match outcome.parent {
                NewParent::Root if !doc.spans[index].parent_span_id.is_empty() => {
                    Some(ParentEdit::Root)
                }
                NewParent::Span(local) => {
                    let parent = trace[local];
                    (doc.spans[index].parent_span_id != doc.spans[parent].span_id)
                        .then_some(ParentEdit::Span(parent))
                }
                NewParent::Root | NewParent::Missing(_) => None,
            };
            let adjusted = outcome.decision.adjusted_count;
            let adjusted_count = (reason == KeepReason::Rule && adjusted > 1.0).then_some(adjusted);
            kept.push(KeptSpan {
                index,
                new_parent,
                adjusted_count,
            });
        }
    }
    kept.sort_by_key(|k| k.index);
    Sampled { outcomes, kept }
}
