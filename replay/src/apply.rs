//! Applying a policy to a trace file: group the document's spans by trace, feed each
//! trace to the runtime sampler, and turn its outcomes into the spans to write.
//!
//! This is the glue between `trace-formats` (files ⇄ span model) and `runtime-sampler`
//! (minimal span views ⇄ decisions); both `autoscope sample` and `autoscope eval` use it,
//! so what `eval` measures is exactly what `sample` writes.

use ahash::AHashMap;
use runtime_sampler::{
    AttributeValue, KeepReason, NewParent, RateController, Sampler, SpanAttributes, SpanKind,
    SpanOutcome, SpanView,
};
use trace_formats::{AnyValue, KeptSpan, KeyValue, ParentEdit, Span, TraceDocument};

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
        let mut slot: AHashMap<&[u8], usize> = AHashMap::new();
        // First pass: each span's trace, and each trace's size, so that the second
        // pass fills vectors of the right capacity instead of growing thousands.
        let mut trace_of: Vec<usize> = Vec::with_capacity(spans.len());
        let mut sizes: Vec<usize> = Vec::new();
        // Files mostly hold a trace's spans in one run (about 60 spans per trace in the
        // DeepTraLog files): comparing with the previous span's trace id skips hashing
        // all but the first span of each run.
        let mut previous: Option<(&[u8], usize)> = None;
        for span in spans {
            let trace_id = span.trace_id.as_slice();
            let at = match previous {
                Some((previous_id, at)) if previous_id == trace_id => at,
                _ => {
                    let next = sizes.len();
                    let at = *slot.entry(trace_id).or_insert(next);
                    if at == next {
                        sizes.push(0);
                    }
                    previous = Some((trace_id, at));
                    at
                }
            };
            sizes[at] += 1;
            trace_of.push(at);
        }
        let mut traces: Vec<Vec<usize>> = sizes.iter().map(|&n| Vec::with_capacity(n)).collect();
        for (index, &at) in trace_of.iter().enumerate() {
            traces[at].push(index);
        }
        Self { traces }
    }
}

/// A span's attributes as rule conditions see them: strings, bools, ints and doubles;
/// other values (bytes, arrays, maps) count as absent. The first attribute with a key
/// wins.
#[derive(Debug, Clone, Copy)]
pub struct ModelAttributes<'a>(pub &'a [KeyValue]);

impl SpanAttributes for ModelAttributes<'_> {
    fn attribute(&self, key: &str) -> Option<AttributeValue<'_>> {
        let found = self.0.iter().find(|kv| kv.key == key)?;
        match &found.value {
            AnyValue::String(text) => Some(AttributeValue::Str(text)),
            AnyValue::Bool(value) => Some(AttributeValue::Bool(*value)),
            AnyValue::Int(value) => Some(AttributeValue::Int(*value)),
            AnyValue::Double(value) => Some(AttributeValue::Double(*value)),
            AnyValue::Empty | AnyValue::Bytes(_) | AnyValue::Array(_) | AnyValue::KvList(_) => None,
        }
    }
}

impl<'a> ModelAttributes<'a> {
    /// One per span of `spans`, in order: a [`SpanView`] borrows its span's entry.
    pub fn of(spans: &'a [Span]) -> Vec<Self> {
        spans.iter().map(|span| Self(&span.attributes)).collect()
    }
}

/// The sampler's view of a span of the model; `attributes` is the span's entry of
/// [`ModelAttributes::of`].
pub fn view<'a>(span: &'a Span, attributes: &'a ModelAttributes<'a>) -> SpanView<'a> {
    SpanView {
        trace_id: &span.trace_id,
        span_id: &span.span_id,
        parent_span_id: Some(span.parent_span_id.as_slice()),
        trace_state: &span.trace_state,
        name: &span.name,
        service: span.service_name(),
        kind: span_kind(span.kind),
        attributes,
        is_error: span.is_error(),
        start_unix_nano: span.start_time_unix_nano,
        duration_nanos: span.duration_nanos(),
    }
}

/// The model's span kind as rule conditions see it (`None` when unspecified).
pub fn span_kind(kind: trace_formats::SpanKind) -> Option<SpanKind> {
    match kind {
        trace_formats::SpanKind::Unspecified => None,
        trace_formats::SpanKind::Internal => Some(SpanKind::Internal),
        trace_formats::SpanKind::Server => Some(SpanKind::Server),
        trace_formats::SpanKind::Client => Some(SpanKind::Client),
        trace_formats::SpanKind::Producer => Some(SpanKind::Producer),
        trace_formats::SpanKind::Consumer => Some(SpanKind::Consumer),
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
    sample_document_adaptive(sampler, doc, groups, None)
}

/// Like [`sample_document`], with the rate controller (`sample --adaptive on`) holding
/// the kept share at its target: after each trace it is told the trace's spans in and
/// kept, at the trace's earliest start (event time), and its scale goes to the sampler.
pub fn sample_document_adaptive(
    sampler: &mut Sampler,
    doc: &TraceDocument,
    groups: &TraceGroups,
    mut controller: Option<&mut RateController>,
) -> Sampled {
    let mut outcomes: Vec<Option<SpanOutcome>> = vec![None; doc.spans.len()];
    let attributes = ModelAttributes::of(&doc.spans);
    let mut views: Vec<SpanView<'_>> = Vec::new();
    for trace in &groups.traces {
        views.clear();
        views.extend(trace.iter().map(|&i| view(&doc.spans[i], &attributes[i])));
        let outcome = sampler.sample_trace(&views);
        if let Some(controller) = controller.as_deref_mut() {
            let start = views.iter().map(|v| v.start_unix_nano).min().unwrap_or(0);
            let kept = outcome.kept_indices().count();
            let scale = controller.observe(start, views.len() as f64, kept as f64);
            sampler.set_rate_scale(scale);
        }
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
                NewParent::Missing(local) => {
                    let top = trace[local];
                    (doc.spans[index].parent_span_id != doc.spans[top].parent_span_id)
                        .then_some(ParentEdit::ParentOf(top))
                }
                NewParent::Root => None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn spans_of(trace_ids: &[u8]) -> Vec<Span> {
        trace_ids
            .iter()
            .map(|&t| Span {
                trace_id: vec![b't', t],
                ..Span::default()
            })
            .collect()
    }

    #[test]
    fn interleaved_traces_group_in_order_of_first_appearance() {
        let groups = TraceGroups::of(&spans_of(&[2, 2, 1, 2, 1, 1, 3, 2]));
        assert_eq!(
            groups.traces,
            vec![vec![0, 1, 3, 7], vec![2, 4, 5], vec![6]]
        );
    }

    proptest! {
        #[test]
        fn groups_match_a_plain_scan(trace_ids in proptest::collection::vec(0u8..6, 0..60)) {
            let mut expected: Vec<(u8, Vec<usize>)> = Vec::new();
            for (index, &t) in trace_ids.iter().enumerate() {
                match expected.iter_mut().find(|(id, _)| *id == t) {
                    Some((_, members)) => members.push(index),
                    None => expected.push((t, vec![index])),
                }
            }
            let expected: Vec<Vec<usize>> = expected.into_iter().map(|(_, m)| m).collect();
            prop_assert_eq!(TraceGroups::of(&spans_of(&trace_ids)).traces, expected);
        }
    }
}
