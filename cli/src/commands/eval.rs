//! `autoscope eval`: what a policy keeps of trace files, beside head and tail sampling
//! computed in the same run on the same data.

use super::console;
use super::traces::{
    StreamArgs, check_inputs, load_sampler, open_traces, progress, warn_about_split_traces,
};
use anyhow::Result;
use autoscope_replay::apply::{TraceGroups, sample_document};
use autoscope_replay::diagnosis::{
    Baseline, FaultMetrics, FaultSet, FaultedTraces, measure_faults,
};
use autoscope_replay::evaluate::{
    HeadIntegrity, Metrics, Selection, document_bytes, head_mode, head_sampling, measure,
    tail_latency_at_volume, tail_sampling,
};
use autoscope_replay::stream::StreamLimits;
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
    /// Faults files written by `autoscope inject` (repeatable): report for every method
    /// the share of the slowed spans it keeps and the root-cause check (the fault's
    /// service ranked first / in the top three from the kept spans, and from all spans;
    /// docs/faults.md).
    #[arg(long = "faults", value_name = "FAULTS.tsv")]
    faults: Vec<PathBuf>,
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
    /// The root-cause check on every span (what the kept spans are compared with).
    #[serde(skip_serializing_if = "Option::is_none")]
    root_cause_all_spans: Option<FaultRow>,
}

/// What a method keeps of the injected faults (`--faults`).
#[derive(Debug, Serialize)]
struct FaultRow {
    #[serde(flatten)]
    metrics: FaultMetrics,
    slowed_span_coverage: Option<f64>,
    root_cause_top1_accuracy: Option<f64>,
    root_cause_top3_accuracy: Option<f64>,
}

impl From<FaultMetrics> for FaultRow {
    fn from(metrics: FaultMetrics) -> Self {
        Self {
            slowed_span_coverage: metrics.slowed_span_coverage(),
            root_cause_top1_accuracy: metrics.top1_accuracy(),
            root_cause_top3_accuracy: metrics.top3_accuracy(),
            metrics,
        }
    }
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
    /// The `threshold_ms` of the `tail latency` row in this file (equal kept volume).
    #[serde(skip_serializing_if = "Option::is_none")]
    latency_threshold_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    faults: Option<FaultRow>,
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
            latency_threshold_ms: None,
            faults: None,
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
    let faults = load_faults(&args.faults)?;
    let mut fault_totals: Vec<FaultMetrics> = Vec::new();
    let mut all_spans_total = FaultMetrics::default();
    let mut faults_found = 0usize;
    // The root-cause check ranks services against baselines over a whole file, and the
    // tail latency row picks its threshold over a whole file: with `--faults` each file
    // is one batch (read whole), else batches of whole traces (bounded memory).
    let limits = match faults {
        Some(_) => StreamLimits::whole_input(),
        None => args.stream.limits(),
    };
    let bar = progress(args.inputs.len());
    let mut files = Vec::new();
    let mut totals: Vec<Metrics> = Vec::new();
    let mut healthy_by_rule: BTreeMap<Option<usize>, u64> = BTreeMap::new();
    let mut healthy = HealthyKept::default();
    for input in &args.inputs {
        bar.set_message(input.display().to_string());
        let mut reader = open_traces(input)?;
        let format = reader.format();
        let mut file = FileSums::default();
        let mut evaluator = BatchEvaluator {
            sampler: &mut sampler,
            head_sampler: head_sampler.as_mut(),
            faults: faults.as_ref(),
            healthy: &mut healthy,
            healthy_by_rule: &mut healthy_by_rule,
        };
        // Whole traces a batch at a time: every figure is a sum over traces.
        let streamed = autoscope_replay::stream::for_each_batch(
            &mut reader,
            &limits,
            |doc, groups| -> Result<()> {
                file.add(evaluator.evaluate(doc, groups)?);
                Ok(())
            },
        )?;
        warn_about_split_traces(input, &streamed);
        if file.batches == 0 {
            // No spans: the rows still say so (n/a shares), one per method.
            let empty = TraceDocument::new(format, input.display().to_string(), Vec::new());
            file.add(evaluator.evaluate(&empty, &TraceGroups::default())?);
        }
        if let Some(integrity) = &file.head {
            head_total.add(integrity);
        }
        faults_found += file.faults_found;
        let mut rows = Vec::new();
        for (i, metrics) in file.metrics.into_iter().enumerate() {
            match totals.get_mut(i) {
                Some(total) => total.add(&metrics),
                None => totals.push(metrics.clone()),
            }
            let mut row = Row::from(metrics);
            if i == LATENCY_ROW && file.batches == 1 {
                row.latency_threshold_ms = file.latency_threshold_ms;
            }
            if let Some(found) = file.faults.get(i) {
                match fault_totals.get_mut(i) {
                    Some(total) => total.add(found),
                    None => fault_totals.push(found.clone()),
                }
                row.faults = Some(FaultRow::from(found.clone()));
            }
            rows.push(row);
        }
        let root_cause_all_spans = file.all_spans.map(|all| {
            all_spans_total.add(&all);
            FaultRow::from(all)
        });
        files.push(FileResult {
            file: input.display().to_string(),
            format: format.name().to_string(),
            methods: rows,
            head_mode: file.head,
            root_cause_all_spans,
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
    let mut total: Vec<Row> = totals.into_iter().map(Row::from).collect();
    for (row, found) in total.iter_mut().zip(fault_totals) {
        row.faults = Some(FaultRow::from(found));
    }
    if let Some(faults) = &faults
        && faults_found < faults.len()
    {
        console::warning(&format!(
            "{} of the {} faults listed in --faults are not in the inputs",
            faults.len() - faults_found,
            faults.len()
        ));
    }
    if args.json {
        let mut value = serde_json::json!({
            "files": files,
            "total": total,
            "healthy_kept": healthy,
            "structure": super::traces::structure_json(sampler.report()),
        });
        if let Some(faults) = &faults {
            value["faults"] = serde_json::json!({
                "listed": faults.len(),
                "found": faults_found,
                "root_cause_all_spans": FaultRow::from(all_spans_total.clone()),
            });
        }
        if args.head {
            value["head_mode"] = serde_json::to_value(&head_total)?;
        }
        super::traces::print_json_report(&value, false)?;
    } else {
        let mut text = String::new();
        for file in &files {
            let _ = writeln!(text, "{} ({})", file.file, file.format);
            table(&mut text, &file.methods);
            if let Some(all) = &file.root_cause_all_spans {
                fault_table(&mut text, &file.methods, all);
            }
            text.push('\n');
        }
        if files.len() > 1 {
            let _ = writeln!(text, "TOTAL ({} files)", files.len());
            table(&mut text, &total);
            if faults.is_some() {
                fault_table(&mut text, &total, &FaultRow::from(all_spans_total.clone()));
            }
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

/// The index of the `tail latency` row among the methods.
const LATENCY_ROW: usize = 4;

/// What one batch of whole traces gives.
struct BatchResult {
    /// Per method, in row order.
    metrics: Vec<Metrics>,
    head: Option<HeadIntegrity>,
    latency_threshold_ms: i64,
    /// With `--faults`: per method, then on every span, and the faulted spans found.
    faults: Option<(Vec<FaultMetrics>, FaultMetrics, usize)>,
}

/// The sums over one file's batches.
#[derive(Default)]
struct FileSums {
    batches: usize,
    metrics: Vec<Metrics>,
    head: Option<HeadIntegrity>,
    latency_threshold_ms: Option<i64>,
    faults: Vec<FaultMetrics>,
    all_spans: Option<FaultMetrics>,
    faults_found: usize,
}

impl FileSums {
    fn add(&mut self, batch: BatchResult) {
        self.batches += 1;
        self.latency_threshold_ms = Some(batch.latency_threshold_ms);
        add_each(&mut self.metrics, batch.metrics, Metrics::add);
        if let Some(integrity) = batch.head {
            self.head
                .get_or_insert_with(HeadIntegrity::default)
                .add(&integrity);
        }
        if let Some((per_method, all, found)) = batch.faults {
            add_each(&mut self.faults, per_method, FaultMetrics::add);
            self.all_spans
                .get_or_insert_with(FaultMetrics::default)
                .add(&all);
            self.faults_found += found;
        }
    }
}

/// Adds per-method figures to a running sum (the same methods in the same order).
fn add_each<T>(sum: &mut Vec<T>, items: Vec<T>, add: impl Fn(&mut T, &T)) {
    if sum.is_empty() {
        *sum = items;
        return;
    }
    for (total, item) in sum.iter_mut().zip(&items) {
        add(total, item);
    }
}

/// The policy and each method beside it, on batches of whole traces.
struct BatchEvaluator<'a> {
    sampler: &'a mut Sampler,
    head_sampler: Option<&'a mut Sampler>,
    faults: Option<&'a FaultSet>,
    healthy: &'a mut HealthyKept,
    healthy_by_rule: &'a mut BTreeMap<Option<usize>, u64>,
}

impl BatchEvaluator<'_> {
    fn evaluate(&mut self, doc: &TraceDocument, groups: &TraceGroups) -> Result<BatchResult> {
        let sampled = sample_document(self.sampler, doc, groups);
        for trace in &groups.traces {
            if trace.iter().any(|&i| doc.spans[i].is_error()) {
                continue;
            }
            for &i in trace {
                let Some(outcome) = sampled.outcomes[i] else {
                    continue;
                };
                let Some(reason) = outcome.kept else { continue };
                self.healthy.total += 1;
                let reason = match reason {
                    KeepReason::Rule => "rule",
                    KeepReason::Error => "error",
                    KeepReason::Latency => "latency outlier",
                    KeepReason::Ancestor => "ancestor of a kept span",
                };
                *self
                    .healthy
                    .by_reason
                    .entry(reason.to_string())
                    .or_default() += 1;
                let rule = match outcome.decision.decided_by {
                    DecidedBy::Rule(r) => Some(r),
                    DecidedBy::Default => None,
                };
                *self.healthy_by_rule.entry(rule).or_default() += 1;
            }
        }
        let bytes_in = document_bytes(doc)?;
        let policy_kept = sampled.kept.len();
        let mut selections = vec![
            Selection {
                method: "policy".into(),
                kept: sampled.kept,
            },
            head_sampling(doc, groups, 0.01),
            head_sampling(doc, groups, 0.10),
            tail_sampling(doc, groups, 0.01),
        ];
        // The Collector's latency policy at the policy's kept volume (in spans).
        let (latency, latency_policy) = tail_latency_at_volume(doc, groups, policy_kept);
        debug_assert_eq!(selections.len(), LATENCY_ROW);
        selections.push(latency);
        let head = self.head_sampler.as_deref_mut().map(|head_sampler| {
            let (selection, integrity) = head_mode(head_sampler, doc, groups);
            selections.push(selection);
            integrity
        });
        let metrics = selections
            .iter()
            .map(|selection| measure(doc, groups, selection, bytes_in))
            .collect::<Result<Vec<_>, _>>()?;
        let faults = self.faults.map(|faults| {
            let faulted = FaultedTraces::locate(doc, groups, faults);
            let baseline = Baseline::of_document(doc, groups);
            let per_method = selections
                .iter()
                .map(|selection| {
                    let mut kept = vec![false; doc.spans.len()];
                    for k in &selection.kept {
                        kept[k.index] = true;
                    }
                    measure_faults(doc, groups, &faulted, &baseline, &kept)
                })
                .collect();
            let all = measure_faults(
                doc,
                groups,
                &faulted,
                &baseline,
                &vec![true; doc.spans.len()],
            );
            (per_method, all, faulted.spans())
        });
        Ok(BatchResult {
            metrics,
            head,
            latency_threshold_ms: latency_policy.threshold_ms,
            faults,
        })
    }
}

/// Reads and merges the faults files; `None` without any.
fn load_faults(paths: &[PathBuf]) -> Result<Option<FaultSet>> {
    if paths.is_empty() {
        return Ok(None);
    }
    let mut all = Vec::new();
    for path in paths {
        let shown = path.display().to_string();
        let text = std::fs::read(path).map_err(|e| {
            super::input_error(format!(
                "{shown}: cannot read: {}",
                trace_formats::describe_io(&e)
            ))
        })?;
        let text = String::from_utf8(text)
            .map_err(|_| super::input_error(format!("{shown}: not UTF-8 text")))?;
        all.extend(
            autoscope_replay::faults::parse_faults(&text, &shown)
                .map_err(|e| super::input_error(e.to_string()))?,
        );
    }
    Ok(Some(FaultSet::new(&all)))
}

/// Per method: slowed spans kept, faulted traces visible, root-cause accuracy.
fn fault_table(out: &mut String, rows: &[Row], all: &FaultRow) {
    let m = &all.metrics;
    let _ = writeln!(
        out,
        "  faults: {} slowed spans in {} traces; root cause from all spans: top-1 {}, top-3 {}",
        m.faulted_spans,
        m.faulted_traces,
        percent_or_na(all.root_cause_top1_accuracy),
        percent_or_na(all.root_cause_top3_accuracy)
    );
    let _ = writeln!(
        out,
        "  {:<22} {:>12} {:>8} {:>8} {:>8}",
        "method", "slowed-kept", "visible", "rc-top1", "rc-top3"
    );
    for row in rows {
        let Some(f) = &row.faults else { continue };
        let _ = writeln!(
            out,
            "  {:<22} {:>12} {:>8} {:>8} {:>8}",
            method_name(row),
            percent_or_na(f.slowed_span_coverage),
            percent_or_na(visible_share(
                f.metrics.visible_faulted_traces,
                f.metrics.faulted_traces
            )),
            percent_or_na(f.root_cause_top1_accuracy),
            percent_or_na(f.root_cause_top3_accuracy),
        );
    }
}

fn visible_share(a: u64, b: u64) -> Option<f64> {
    autoscope_replay::evaluate::share(a, b)
}

/// The method as the tables show it: the latency row with its threshold.
fn method_name(row: &Row) -> String {
    match row.latency_threshold_ms {
        Some(ms) => format!("{} >={ms}ms", row.metrics.method),
        None => row.metrics.method.clone(),
    }
}

fn table(out: &mut String, rows: &[Row]) {
    let _ = writeln!(
        out,
        "  {:<22} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
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
            "  {:<22} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
            method_name(row),
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
