//! `autoscope eval`: what a policy keeps of trace files, beside head and tail sampling
//! computed in the same run on the same data.

use super::console;
use super::traces::{
    StreamArgs, check_inputs, load_sampler, open_traces, progress, warn_about_split_traces,
};
use anyhow::Result;
use autoscope_replay::apply::{TraceGroups, sample_document};
use autoscope_replay::evaluate::{
    HeadIntegrity, Metrics, Selection, document_bytes, head_mode, head_sampling, measure,
    tail_sampling,
};
use runtime_sampler::{DecidedBy, KeepReason, Sampler};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use trace_formats::TraceDocument;

/// Arguments of `autoscope eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file.
    #[arg(short = 'p', long, value_name = "FILE")]
    policy: PathBuf,
    /// Trace files (any format `autoscope sample` reads).
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// Rows in the table of rules behind the spans kept from healthy traces.
    #[arg(long, default_value_t = 12)]
    top: usize,
    /// Also apply the policy in head mode, as the SDK samplers do: each span decided at
    /// its start alone (no structure pass, no buffering), errors and latency outliers
    /// kept at their end with their local (same-service) ancestors; report its ancestor
    /// integrity.
    #[arg(long)]
    head: bool,
    #[command(flatten)]
    stream: StreamArgs,
}

#[derive(Debug, Serialize)]
struct FileResult {
    file: String,
    format: String,
    methods: Vec<Row>,
    #[serde(skip_serializing_if = "Option::is_none")]
    head_mode: Option<HeadIntegrity>,
}

#[derive(Debug, Serialize)]
struct Row {
    #[serde(flatten)]
    metrics: Metrics,
    // `null` where the share is not applicable (no spans, no error spans, nothing kept).
    span_reduction: Option<f64>,
    byte_reduction: Option<f64>,
    error_span_coverage: Option<f64>,
    error_trace_coverage: Option<f64>,
    trace_visibility: Option<f64>,
    ancestor_integrity: Option<f64>,
}

impl From<Metrics> for Row {
    fn from(metrics: Metrics) -> Self {
        Self {
            span_reduction: metrics.span_reduction(),
            byte_reduction: metrics.byte_reduction(),
            error_span_coverage: metrics.error_span_coverage(),
            error_trace_coverage: metrics.error_trace_coverage(),
            trace_visibility: metrics.trace_visibility(),
            ancestor_integrity: metrics.ancestor_integrity(),
            metrics,
        }
    }
}

/// Spans the policy kept from traces without any error span, by why and which rule.
#[derive(Debug, Default, Serialize)]
struct HealthyKept {
    total: u64,
    by_reason: BTreeMap<String, u64>,
    by_rule: Vec<RuleShare>,
}

#[derive(Debug, Serialize)]
struct RuleShare {
    rule: String,
    kept: u64,
    evidence: String,
}

/// Runs `autoscope eval`.
pub fn run(args: Args) -> Result<ExitCode> {
    check_inputs(&args.inputs)?;
    let (policy, mut sampler) = load_sampler(&args.policy)?;
    // Head mode has its own run-time state (latency windows, budget).
    let mut head_sampler = match args.head {
        true => Some(
            Sampler::new(&policy)
                .map_err(|e| super::input_error(format!("{}: {e}", args.policy.display())))?,
        ),
        false => None,
    };
    let mut head_total = HeadIntegrity::default();
    let bar = progress(args.inputs.len());
    let mut files = Vec::new();
    let mut totals: Vec<Metrics> = Vec::new();
    let mut healthy_by_rule: BTreeMap<Option<usize>, u64> = BTreeMap::new();
    let mut healthy = HealthyKept::default();
    for input in &args.inputs {
        bar.set_message(input.display().to_string());
        let mut reader = open_traces(input)?;
        let format = reader.format();
        let mut file_metrics: Vec<Metrics> = Vec::new();
        let mut file_head: Option<HeadIntegrity> = None;
        // Whole traces a batch at a time: every figure is a sum over traces.
        let streamed = autoscope_replay::stream::for_each_batch(
            &mut reader,
            &args.stream.limits(),
            |doc, groups| -> Result<()> {
                let (metrics, head) = evaluate_batch(
                    &mut sampler,
                    head_sampler.as_mut(),
                    doc,
                    groups,
                    &mut healthy,
                    &mut healthy_by_rule,
                )?;
                add_metrics(&mut file_metrics, metrics);
                if let Some(integrity) = head {
                    file_head
                        .get_or_insert_with(HeadIntegrity::default)
                        .add(&integrity);
                }
                Ok(())
            },
        )?;
        warn_about_split_traces(input, &streamed);
        if file_metrics.is_empty() {
            // No spans: the rows still say so (n/a shares), one per method.
            let empty = TraceDocument::new(format, input.display().to_string(), Vec::new());
            let (metrics, head) = evaluate_batch(
                &mut sampler,
                head_sampler.as_mut(),
                &empty,
                &TraceGroups::default(),
                &mut healthy,
                &mut healthy_by_rule,
            )?;
            file_metrics = metrics;
            file_head = head;
        }
        if let Some(integrity) = &file_head {
            head_total.add(integrity);
        }
        let mut rows = Vec::new();
        for (i, metrics) in file_metrics.into_iter().enumerate() {
            match totals.get_mut(i) {
                Some(total) => total.add(&metrics),
                None => totals.push(metrics.clone()),
            }
            rows.push(Row::from(metrics));
        }
        files.push(FileResult {
            file: input.display().to_string(),
            format: format.name().to_string(),
            methods: rows,
            head_mode: file_head,
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    let mut by_rule: Vec<(Option<usize>, u64)> = healthy_by_rule.into_iter().collect();
    by_rule.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    healthy.by_rule = by_rule
        .into_iter()
        .map(
            |(rule, kept)| match rule.and_then(|r| policy.rules.get(r)) {
                Some(rule) => RuleShare {
                    rule: rule.id.clone(),
                    kept,
                    evidence: rule
                        .evidence
                        .as_ref()
                        .map(|e| {
                            let mut kinds: Vec<&str> =
                                e.reasons.iter().map(|r| r.kind.as_str()).collect();
                            kinds.dedup();
                            format!("score {}: {}", e.score, kinds.join(", "))
                        })
                        .unwrap_or_default(),
                },
                None => RuleShare {
                    rule: "(default)".into(),
                    kept,
                    evidence: String::new(),
                },
            },
        )
        .collect();
    let total: Vec<Row> = totals.into_iter().map(Row::from).collect();
    if args.json {
        let mut value = serde_json::json!({
            "files": files,
            "total": total,
            "healthy_kept": healthy,
            "structure": super::traces::structure_json(sampler.report()),
        });
        if args.head {
            value["head_mode"] = serde_json::to_value(&head_total)?;
        }
        super::traces::print_json_report(&value, false)?;
    } else {
        let mut text = String::new();
        for file in &files {
            let _ = writeln!(text, "{} ({})", file.file, file.format);
            table(&mut text, &file.methods);
            text.push('\n');
        }
        if files.len() > 1 {
            let _ = writeln!(text, "TOTAL ({} files)", files.len());
            table(&mut text, &total);
            text.push('\n');
        }
        let _ = writeln!(
            text,
            "Spans the policy kept from healthy traces (no error span): {}",
            healthy.total
        );
        for (reason, count) in &healthy.by_reason {
            let _ = writeln!(text, "  {count:>8}  {reason}");
        }
        let _ = writeln!(text, "  by rule (top {}):", args.top);
        for share in healthy.by_rule.iter().take(args.top) {
            let _ = writeln!(
                text,
                "  {:>8}  {}  [{}]",
                share.kept, share.rule, share.evidence
            );
        }
        let repairs = &sampler.report().repairs;
        let _ = writeln!(
            text,
            "\nTrace structure: {} duplicate span ids, {} parent cycles cut, {} spans with a parent not in the file, {} traces with several roots",
            repairs.duplicate_span_ids,
            repairs.cycles_broken,
            repairs.missing_parents,
            repairs.several_roots
        );
        if args.head {
            head_text(&mut text, &head_total);
        }
        console::out(&text)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn head_text(out: &mut String, head: &HeadIntegrity) {
    let _ = writeln!(
        out,
        "\nHead mode (per-span decisions at start, as the SDK samplers make them):"
    );
    let _ = writeln!(
        out,
        "  rule-kept spans whose parent its rule kept too: {} of {} ({:.2}%)",
        head.rule_kept_with_rule_kept_parent,
        head.rule_kept,
        100.0 * head.rule_parent_share()
    );
    let _ = writeln!(
        out,
        "  kept by the error override {}, by the latency override {}, as local ancestors {}",
        head.error_kept, head.latency_kept, head.local_ancestors
    );
    let _ = writeln!(
        out,
        "  error-kept spans missing a cross-service ancestor: {} of {}",
        head.error_kept_missing_ancestor, head.error_kept
    );
    let _ = writeln!(
        out,
        "  ancestor integrity of everything kept: {} of {} ({:.2}%)",
        head.kept_with_parent,
        head.kept,
        100.0 * head.ancestor_integrity()
    );
}

/// The policy (and each method beside it) on one batch of whole traces: the figures per
/// method, head mode's integrity when asked, and the healthy spans the policy kept.
fn evaluate_batch(
    sampler: &mut Sampler,
    head_sampler: Option<&mut Sampler>,
    doc: &TraceDocument,
    groups: &TraceGroups,
    healthy: &mut HealthyKept,
    healthy_by_rule: &mut BTreeMap<Option<usize>, u64>,
) -> Result<(Vec<Metrics>, Option<HeadIntegrity>)> {
    let sampled = sample_document(sampler, doc, groups);
    for trace in &groups.traces {
        if trace.iter().any(|&i| doc.spans[i].is_error()) {
            continue;
        }
        for &i in trace {
            let Some(outcome) = sampled.outcomes[i] else {
                continue;
            };
            let Some(reason) = outcome.kept else { continue };
            healthy.total += 1;
            let reason = match reason {
                KeepReason::Rule => "rule",
                KeepReason::Error => "error",
                KeepReason::Latency => "latency outlier",
                KeepReason::Ancestor => "ancestor of a kept span",
            };
            *healthy.by_reason.entry(reason.to_string()).or_default() += 1;
            let rule = match outcome.decision.decided_by {
                DecidedBy::Rule(r) => Some(r),
                DecidedBy::Default => None,
            };
            *healthy_by_rule.entry(rule).or_default() += 1;
        }
    }
    let bytes_in = document_bytes(doc)?;
    let mut selections = vec![
        Selection {
            method: "policy".into(),
            kept: sampled.kept,
        },
        head_sampling(doc, groups, 0.01),
        head_sampling(doc, groups, 0.10),
        tail_sampling(doc, groups, 0.01),
    ];
    let head = head_sampler.map(|head_sampler| {
        let (selection, integrity) = head_mode(head_sampler, doc, groups);
        selections.push(selection);
        integrity
    });
    let metrics = selections
        .iter()
        .map(|selection| measure(doc, groups, selection, bytes_in))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((metrics, head))
}

/// Adds per-method figures to a running sum (the same methods in the same order).
fn add_metrics(sum: &mut Vec<Metrics>, metrics: Vec<Metrics>) {
    if sum.is_empty() {
        *sum = metrics;
        return;
    }
    for (total, metrics) in sum.iter_mut().zip(&metrics) {
        total.add(metrics);
    }
}

fn table(out: &mut String, rows: &[Row]) {
    let _ = writeln!(
        out,
        "  {:<20} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "method",
        "spans",
        "kept",
        "span-red",
        "byte-red",
        "err-span",
        "err-trc",
        "visible",
        "ancestry"
    );
    for row in rows {
        let m = &row.metrics;
        let _ = writeln!(
            out,
            "  {:<20} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
            m.method,
            m.spans,
            m.kept_spans,
            percent_or_na(row.span_reduction),
            percent_or_na(row.byte_reduction),
            percent_or_na(row.error_span_coverage),
            percent_or_na(row.error_trace_coverage),
            percent_or_na(row.trace_visibility),
            percent_or_na(row.ancestor_integrity),
        );
    }
}

/// `12.3%`, or `n/a` for a share of nothing.
fn percent_or_na(share: Option<f64>) -> String {
    match share {
        Some(share) => format!("{:.1}%", 100.0 * share),
        None => "n/a".into(),
    }
}
