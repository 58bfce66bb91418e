//! `autoscope inject`: latency faults injected into a span CSV (SkyWalking or research),
//! with the faults file `eval --faults` reads.

use super::console;
use super::output::{Destination, Inputs};
use anyhow::Result;
use autoscope_replay::faults::{FaultConfig, FaultKind, TimeWindow, faults_file_text, inject};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `autoscope inject`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    kind: Kind,
}

#[derive(Debug, clap::Subcommand)]
enum Kind {
    /// Slow one span per chosen trace by a factor (a slow dependency): a leaf SkyWalking
    /// Exit span first, then any leaf, then any span but the root.
    Delay(Common),
    /// Slow every span of one service per chosen trace by a factor on its self time
    /// (CPU contention).
    Contention(ContentionArgs),
}

#[derive(Debug, clap::Args)]
struct ContentionArgs {
    /// The service whose spans are slowed (SkyWalking `Service`; research CSV: the pod
    /// name without its Kubernetes suffix).
    #[arg(long, value_name = "NAME")]
    service: String,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, clap::Args)]
struct Common {
    /// The span CSV (SkyWalking or research; gzip or zstd content decompressed); `-`
    /// reads standard input.
    #[arg(value_name = "INPUT")]
    input: PathBuf,
    /// The CSV with the faults injected: the input byte for byte except the changed
    /// end times (and research `Duration`); `-` for standard output.
    #[arg(short = 'o', long, value_name = "PATH")]
    output: PathBuf,
    /// The faults file to write: `trace_id<TAB>span_id<TAB>service` per slowed span.
    #[arg(long, value_name = "FAULTS.tsv")]
    faults: PathBuf,
    /// Share of traces chosen, in [0, 1] (default 0.02; 1 with --window).
    #[arg(long, value_name = "SHARE")]
    share: Option<f64>,
    /// Slow-down factor (at least 1).
    #[arg(long, default_value_t = 5.0)]
    factor: f64,
    /// Seed of the choice of traces and spans.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The first this many traces (in file order) are never chosen, so latency windows
    /// start healthy.
    #[arg(long, default_value_t = 0, value_name = "TRACES")]
    warm_up: usize,
    /// Only traces starting in this window, in seconds after the file's first span
    /// start: `FROM..TO` (e.g. `300..600`).
    #[arg(long, value_name = "FROM..TO", value_parser = parse_window)]
    window: Option<TimeWindow>,
    /// Print the report as JSON (on standard output; on standard error with `-o -`).
    #[arg(long)]
    json: bool,
}

fn parse_window(text: &str) -> Result<TimeWindow, String> {
    let (from, to) = text
        .split_once("..")
        .ok_or_else(|| format!("{text:?} is not FROM..TO (seconds)"))?;
    let seconds = |part: &str| {
        part.trim()
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0)
            .ok_or_else(|| format!("{part:?} is not a number of seconds"))
    };
    let window = TimeWindow {
        from_seconds: seconds(from)?,
        to_seconds: seconds(to)?,
    };
    if window.from_seconds >= window.to_seconds {
        return Err(format!("{text}: FROM must be below TO"));
    }
    Ok(window)
}

/// Reads the whole input (`-`: standard input), decompressed; errors name the file.
fn read_input(path: &Path) -> Result<Vec<u8>> {
    let shown = path.display().to_string();
    let failed = |e: std::io::Error| {
        super::input_error(format!(
            "{shown}: cannot read: {}",
            trace_formats::describe_io(&e)
        ))
    };
    if path.as_os_str() == trace_formats::STDIN_PATH {
        return trace_formats::read_decompressed(std::io::stdin().lock(), 0).map_err(failed);
    }
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            return Err(super::input_error(format!(
                "{shown}: is a folder, not a trace file"
            )));
        }
        Ok(_) => {}
        Err(e) => return Err(failed(e)),
    }
    let file = std::fs::File::open(path).map_err(failed)?;
    let size = file.metadata().map_or(0, |m| m.len() as usize);
    trace_formats::read_decompressed(file, size).map_err(failed)
}

/// Runs `autoscope inject`.
pub fn run(args: Args) -> Result<ExitCode> {
    let (kind, common) = match args.kind {
        Kind::Delay(common) => (FaultKind::Delay, common),
        Kind::Contention(ContentionArgs { service, common }) => {
            (FaultKind::Contention { service }, common)
        }
    };
    let config = FaultConfig {
        kind,
        share: common
            .share
            .unwrap_or(if common.window.is_some() { 1.0 } else { 0.02 }),
        factor: common.factor,
        seed: common.seed,
        warm_up: common.warm_up,
        window: common.window,
    };
    if common.output == common.faults {
        return Err(super::input_error(format!(
            "{}: given as both --output and --faults; choose two outputs",
            common.output.display()
        )));
    }
    // Both destinations are checked before the input is read.
    let inputs = Inputs::of([common.input.as_path()]);
    let output = Destination::file(&common.output, &inputs)?;
    let faults_out = Destination::file(&common.faults, &inputs)?;
    if output.is_stdout() && faults_out.is_stdout() {
        return Err(super::input_error(
            "--output and --faults cannot both be standard output",
        ));
    }
    let input = read_input(&common.input)?;
    let origin = common.input.display().to_string();
    let injected =
        inject(&input, &config, &origin).map_err(|e| super::input_error(e.to_string()))?;
    drop(input);
    output.write_with(|w| Ok(w.write_all(&injected.output)?))?;
    faults_out
        .write_with(|w| Ok(w.write_all(faults_file_text(&injected.faults, &config).as_bytes())?))?;
    if common.json {
        let value = serde_json::json!({
            "input": origin,
            "output": output.name(),
            "faults_file": faults_out.name(),
            "kind": config.kind.name(),
            "settings": config.describe(),
            "traces": injected.traces,
            "faulted_traces": injected.faulted_traces,
            "slowed_spans": injected.faults.len(),
            "changed_rows": injected.changed_rows,
        });
        super::traces::print_json_report(&value, output.is_stdout() || faults_out.is_stdout())?;
    } else {
        console::status(&format!(
            "{}: {} traces, {} faulted ({} slowed spans, {} rows changed) -> {}, faults in {}",
            origin,
            injected.traces,
            injected.faulted_traces,
            injected.faults.len(),
            injected.changed_rows,
            output.name(),
            faults_out.name()
        ));
    }
    if injected.faults.is_empty() {
        console::warning("no trace was chosen: the faults file lists nothing");
    }
    Ok(ExitCode::SUCCESS)
}
