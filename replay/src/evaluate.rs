//! Measuring a sampling method on a trace document: spans and bytes kept, error-span and
//! error-trace coverage, trace visibility and ancestor integrity — for the policy and,
//! computed on the same data, for head and tail sampling.
//!
//! Bytes are those of the output the method would write in the input's own format
//! (the same writer as `autoscope sample`), against the whole document written by that
//! writer, so formats compare like with like.

use crate::apply::TraceGroups;
use ahash::AHashMap;
use runtime_sampler::consistent::{keeps, threshold, trace_randomness};
use serde::Serialize;
use std::io::{self, Write};
use trace_formats::{KeptSpan, TraceDocument, WriteError};

/// A sampling method's keep decision per span of a document.
#[derive(Debug, Clone)]
pub struct Selection {
    /// Method name, e.g. `policy`, `head 1%`.
    pub method: String,
    /// Spans to write, in document order.
    pub kept: Vec<KeptSpan>,
}

/// Head sampling at `rate`: each trace kept whole or dropped whole, by the same
/// consistent hash of the trace id the runtime sampler uses.
pub fn head_sampling(doc: &TraceDocument, groups: &TraceGroups, rate: f64) -> Selection {
    let limit = threshold(rate);
    select_traces(groups, format!("head {}%", percent(rate)), |trace| {
        keeps(trace_randomness(&doc.spans[trace[0]].trace_id), limit)
    })
}

/// Tail sampling: every trace with an error span, plus `rate` of the rest.
pub fn tail_sampling(doc: &TraceDocument, groups: &TraceGroups, rate: f64) -> Selection {
    let limit = threshold(rate);
    let name = format!("tail (errors + {}%)", percent(rate));
    select_traces(groups, name, |trace| {
        trace.iter().any(|&i| doc.spans[i].is_error())
            || keeps(trace_randomness(&doc.spans[trace[0]].trace_id), limit)
    })
}

fn percent(rate: f64) -> String {
    let p = rate * 100.0;
    if p.fract() == 0.0 {
        format!("{p:.0}")
    } else {
        format!("{p}")
    }
}

fn select_traces(
    groups: &TraceGroups,
    method: String,
    keep_trace: impl Fn(&[usize]) -> bool,
) -> Selection {
    let mut kept: Vec<KeptSpan> = groups
        .traces
        .iter()
        .filter(|trace| keep_trace(trace))
        .flatten()
        .map(|&i| KeptSpan::unchanged(i))
        .collect();
    kept.sort_by_key(|k| k.index);
    Selection { method, kept }
}

/// What a method kept of a document.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Metrics {
    /// Method name.
    pub method: String,
    /// Spans in.
    pub spans: u64,
    /// Spans kept.
    pub kept_spans: u64,
    /// Bytes of the whole document in its format.
    pub bytes_in: u64,
    /// Bytes of the kept spans in that format.
    pub bytes_out: u64,
    /// Error spans in.
    pub error_spans: u64,
    /// Error spans kept.
    pub kept_error_spans: u64,
    /// Traces with at least one error span.
    pub error_traces: u64,
    /// Error traces whose every error span is kept.
    pub covered_error_traces: u64,
    /// Traces.
    pub traces: u64,
    /// Traces with at least one kept span.
    pub visible_traces: u64,
    /// Kept spans whose original parent is kept, or that have none in the input (roots,
    /// and orphans whose parent the input never had).
    pub kept_with_parent: u64,
}

impl Metrics {
    /// Adds another document's counts (same method) into `self`.
    pub fn add(&mut self, other: &Metrics) {
        self.spans += other.spans;
        self.kept_spans += other.kept_spans;
        self.bytes_in += other.bytes_in;
        self.bytes_out += other.bytes_out;
        self.error_spans += other.error_spans;
        self.kept_error_spans += other.kept_error_spans;
        self.error_traces += other.error_traces;
        self.covered_error_traces += other.covered_error_traces;
        self.traces += other.traces;
        self.visible_traces += other.visible_traces;
        self.kept_with_parent += other.kept_with_parent;
    }

    /// 1 - kept / spans.
    pub fn span_reduction(&self) -> f64 {
        1.0 - ratio(self.kept_spans, self.spans)
    }
    /// 1 - bytes out / bytes in.
    pub fn byte_reduction(&self) -> f64 {
        1.0 - ratio(self.bytes_out, self.bytes_in)
    }
    /// Kept error spans / error spans (1 when there are none).
    pub fn error_span_coverage(&self) -> f64 {
        ratio_or_one(self.kept_error_spans, self.error_spans)
    }
    /// Fully covered error traces / error traces (1 when there are none).
    pub fn error_trace_coverage(&self) -> f64 {
        ratio_or_one(self.covered_error_traces, self.error_traces)
    }
    /// Traces with a kept span / traces.
    pub fn trace_visibility(&self) -> f64 {
        ratio(self.visible_traces, self.traces)
    }
    /// Kept spans with their parent / kept spans (1 when nothing is kept).
    pub fn ancestor_integrity(&self) -> f64 {
        ratio_or_one(self.kept_with_parent, self.kept_spans)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn ratio_or_one(a: u64, b: u64) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// Bytes of the whole document in its own format.
pub fn document_bytes(doc: &TraceDocument) -> Result<u64, WriteError> {
    let mut counter = CountingWriter::default();
    trace_formats::write_all(doc, &mut counter)?;
    Ok(counter.bytes)
}

/// Measures `selection` on `doc`; `bytes_in` from [`document_bytes`].
pub fn measure(
    doc: &TraceDocument,
    groups: &TraceGroups,
    selection: &Selection,
    bytes_in: u64,
) -> Result<Metrics, WriteError> {
    let mut counter = CountingWriter::default();
    trace_formats::write(doc, &selection.kept, &mut counter)?;
    let mut kept = vec![false; doc.spans.len()];
    for k in &selection.kept {
        kept[k.index] = true;
    }
    let mut metrics = Metrics {
        method: selection.method.clone(),
        spans: doc.spans.len() as u64,
        kept_spans: selection.kept.len() as u64,
        bytes_in,
        bytes_out: counter.bytes,
        traces: groups.traces.len() as u64,
        ..Metrics::default()
    };
    let mut by_id: AHashMap<&[u8], usize> = AHashMap::new();
    for trace in &groups.traces {
        // Only a kept span with a parent needs the span id index: most traces of a
        // sampled document have none, and hashing every span id was a hot spot.
        by_id.clear();
        let mut indexed = false;
        let (mut errors, mut kept_errors, mut visible) = (0u64, 0u64, false);
        for &i in trace {
            let span = &doc.spans[i];
            if span.is_error() {
                errors += 1;
                kept_errors += u64::from(kept[i]);
            }
            if kept[i] {
                visible = true;
                if !indexed && !span.parent_span_id.is_empty() {
                    for &j in trace {
                        by_id.entry(doc.spans[j].span_id.as_slice()).or_insert(j);
                    }
                    indexed = true;
                }
                let parent_ok = span.parent_span_id.is_empty()
                    || by_id
                        .get(span.parent_span_id.as_slice())
                        .is_none_or(|&p| kept[p]);
                metrics.kept_with_parent += u64::from(parent_ok);
            }
        }
        metrics.error_spans += errors;
        metrics.kept_error_spans += kept_errors;
        if errors > 0 {
            metrics.error_traces += 1;
            metrics.covered_error_traces += u64::from(kept_errors == errors);
        }
        metrics.visible_traces += u64::from(visible);
    }
    Ok(metrics)
}

/// Counts bytes written, storing nothing.
#[derive(Debug, Default)]
pub struct CountingWriter {
    /// Bytes so far.
    pub bytes: u64,
}

impl Write for CountingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use trace_formats::{Format, Resource, Span, Status, StatusCode};

    fn span(trace: &str, id: &str, parent: &str, error: bool) -> Span {
        Span {
            trace_id: trace.as_bytes().to_vec(),
            span_id: id.as_bytes().to_vec(),
            parent_span_id: parent.as_bytes().to_vec(),
            name: format!("op-{id}"),
            resource: Arc::new(Resource::for_service("svc")),
            status: Status {
                code: if error {
                    StatusCode::Error
                } else {
                    StatusCode::Unset
                },
                message: String::new(),
            },
            ..Span::default()
        }
    }

    #[test]
    fn tail_keeps_error_traces_whole_and_metrics_add_up() {
        let doc = TraceDocument::new(
            Format::OtlpJson,
            "test",
            vec![
                span("t1", "a", "", false),
                span("t1", "b", "a", true),
                span("t2", "c", "", false),
            ],
        );
        let groups = TraceGroups::of(&doc.spans);
        let tail = tail_sampling(&doc, &groups, 0.0);
        assert_eq!(
            tail.kept.iter().map(|k| k.index).collect::<Vec<_>>(),
            [0, 1]
        );
        let m = measure(&doc, &groups, &tail, 1000).unwrap();
        assert_eq!(
            (m.spans, m.kept_spans, m.traces, m.visible_traces),
            (3, 2, 2, 1)
        );
        assert_eq!(m.error_span_coverage(), 1.0);
        assert_eq!(m.ancestor_integrity(), 1.0);
        // A child kept without its parent breaks integrity.
        let orphaned = Selection {
            method: "x".into(),
            kept: vec![KeptSpan::unchanged(1)],
        };
        let m = measure(&doc, &groups, &orphaned, 1000).unwrap();
        assert_eq!(m.ancestor_integrity(), 0.0);
        let head = head_sampling(&doc, &groups, 0.0);
        assert!(head.kept.is_empty());
        let all = head_sampling(&doc, &groups, 1.0);
        assert_eq!(all.kept.len(), 3);
    }
}
