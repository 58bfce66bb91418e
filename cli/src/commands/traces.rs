//! What the trace commands share: checking and reading trace files with errors that
//! name them, loading a policy into a sampler, progress, and the sampler's report as
//! JSON.

use super::console;
use anyhow::{Context, Result};
use autoscope_replay::stream::{StreamLimits, StreamStats};
use indicatif::{ProgressBar, ProgressStyle};
use runtime_sampler::{Report, Sampler};
use std::path::{Path, PathBuf};
use trace_formats::TraceDocument;

/// Reads one trace file (`-`: standard input; gzip and zstd content decompressed); a
/// missing, empty or malformed file is an input error (exit 2) naming the file, and
/// the line where known.
pub fn read_traces(path: &Path) -> Result<TraceDocument> {
    Ok(trace_formats::read_path(path)?)
}

/// Opens one trace file to be read in blocks (`-`: standard input; gzip and zstd
/// content decompressed as it is read); errors as [`read_traces`] gives them.
pub fn open_traces(path: &Path) -> Result<trace_formats::BlockReader> {
    Ok(trace_formats::BlockReader::open(path)?)
}

/// How the trace commands stream their inputs: the bounds of the window of open traces.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Streaming")]
pub struct StreamArgs {
    /// Spans held in open traces at most; a trace open longer goes to a temporary file
    /// and is decided whole at the end (memory: about 1 KiB per span, and at most
    /// `--window-memory`).
    #[arg(long, value_name = "SPANS", default_value_t = StreamLimits::default().window_spans)]
    window: usize,
    /// Memory held in open traces at most, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = StreamLimits::default().window_bytes >> 20)]
    window_memory: usize,
    /// A trace is whole once this many spans of the input passed without one of it
    /// (exports keep a trace's spans together; raise it for an input that does not).
    #[arg(long, value_name = "SPANS", default_value_t = StreamLimits::default().trace_gap_spans)]
    trace_gap: u64,
}

impl StreamArgs {
    /// The limits these arguments give.
    pub fn limits(&self) -> StreamLimits {
        StreamLimits {
            window_spans: self.window.max(1),
            window_bytes: self.window_memory.max(1).saturating_mul(1 << 20),
            trace_gap_spans: self.trace_gap.max(1),
            batch_spans: autoscope_replay::stream::BATCH_SPANS,
        }
    }
}

/// A warning when a trace's spans lay further apart than `--trace-gap`.
pub fn warn_about_split_traces(input: &Path, stats: &StreamStats) {
    if stats.split_traces == 0 {
        return;
    }
    console::warning(&format!(
        "{}: {} traces have spans more than --trace-gap spans apart and were decided in parts; \
         raise --trace-gap",
        input.display(),
        stats.split_traces
    ));
}

/// What a detail line says of spilled traces (empty when none were).
pub fn spill_note(stats: &StreamStats) -> String {
    match stats.spilled_traces {
        0 => String::new(),
        n => format!(
            " ({n} traces spread over the input went through a temporary file, {} spans)",
            stats.spilled_spans
        ),
    }
}

/// Loads a policy and compiles it.
pub fn load_sampler(path: &Path) -> Result<(policy_schema::Policy, Sampler)> {
    let policy = policy_schema::from_path(path)?;
    let sampler = Sampler::new(&policy)
        .map_err(|e| super::input_error(format!("{}: {e}", path.display())))
        .context("cannot compile the policy")?;
    Ok((policy, sampler))
}

/// Checks that every input is a file before any work starts, so a typo fails fast: a
/// missing input is "no such file", a folder "is a folder". `-` (standard input) can
/// be read once, so it must be the only input.
pub fn check_inputs(inputs: &[PathBuf]) -> Result<()> {
    if inputs.is_empty() {
        return Err(super::input_error("no trace files given"));
    }
    let is_stdin = |input: &PathBuf| input.as_os_str() == trace_formats::STDIN_PATH;
    if inputs.iter().any(is_stdin) {
        if inputs.len() > 1 {
            return Err(super::input_error(
                "`-` (standard input) must be the only input: it can be read once",
            ));
        }
        return Ok(());
    }
    for input in inputs {
        let problem = match std::fs::metadata(input) {
            Ok(m) if m.is_dir() => "is a folder, not a trace file".to_string(),
            Ok(_) => continue,
            Err(e) => trace_formats::describe_io(&e),
        };
        return Err(super::input_error(format!(
            "{}: {problem}",
            input.display()
        )));
    }
    Ok(())
}

/// A progress bar over input files, shown only when standard error is a terminal and
/// `--quiet` is not given.
pub fn progress(files: usize) -> ProgressBar {
    if !console::progress_allowed() || files < 2 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(files as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{pos}/{len}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// The trace-structure problems the sampler found and repaired, as JSON.
pub fn structure_json(report: &Report) -> serde_json::Value {
    let repairs = &report.repairs;
    serde_json::json!({
        "roots": repairs.roots,
        "traces_with_several_roots": repairs.several_roots,
        "missing_parents": repairs.missing_parents,
        "duplicate_span_ids": repairs.duplicate_span_ids,
        "parent_cycles_cut": repairs.cycles_broken,
    })
}

/// The sampler's per-rule report as JSON (rules in policy order, the default last).
pub fn report_json(report: &Report) -> serde_json::Value {
    let rules: Vec<serde_json::Value> = report
        .rules
        .iter()
        .map(|r| {
            serde_json::json!({
                "rule": r.id,
                "spans_in": r.spans_in,
                "spans_out": r.spans_out(),
                "kept_by_rule": r.kept_by_rule,
                "kept_by_error": r.kept_by_error,
                "kept_by_latency": r.kept_by_latency,
                "kept_as_ancestor": r.kept_as_ancestor,
                "adjusted_total": r.adjusted_total,
            })
        })
        .collect();
    serde_json::json!({
        "traces": report.traces,
        "spans_in": report.spans_in(),
        "spans_out": report.spans_out(),
        "rules": rules,
        "structure": structure_json(report),
    })
}

/// A warning when traces had duplicate span ids or parent cycles (which the sampler
/// repaired, but which mean the input is not what it claims).
pub fn warn_about_structure(report: &Report, hint: &str) {
    let repairs = &report.repairs;
    if repairs.duplicate_span_ids == 0 && repairs.cycles_broken == 0 {
        return;
    }
    console::warning(&format!(
        "the traces have {} duplicate span ids and {} parent cycles (cut to roots){hint}",
        repairs.duplicate_span_ids, repairs.cycles_broken
    ));
}

/// Writes a JSON report: to standard output, or to standard error when standard
/// output carries the command's data.
pub fn print_json_report(value: &serde_json::Value, data_on_stdout: bool) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    if data_on_stdout {
        console::report_to_stderr(&text)?;
    } else {
        console::out(&text)?;
    }
    Ok(())
}
