//! `autoscope sample`: apply a policy to trace files and write the kept spans in the
//! input's format.

use super::console;
use super::output::{Destination, Inputs, in_folder};
use super::traces::{
    check_inputs, load_sampler, print_json_report, progress, read_traces, report_json,
    warn_about_structure,
};
use anyhow::Result;
use autoscope_replay::apply::{TraceGroups, sample_document_adaptive};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `autoscope sample`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file.
    #[arg(short = 'p', long, value_name = "FILE")]
    policy: PathBuf,
    /// Trace files (OTLP/JSON, Jaeger JSON, Zipkin v2 JSON, SkyWalking CSV, research CSV;
    /// format and gzip/zstd compression told from the content); `-` reads standard input.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Output: a file for one input; a folder for several (created; each output keeps
    /// its input's path below the inputs' common folder); `-` for standard output.
    #[arg(short = 'o', long, value_name = "PATH")]
    output: PathBuf,
    /// Print the per-rule report (spans in and out per rule, overrides, structure
    /// repairs) on standard error.
    #[arg(long)]
    report: bool,
    /// Hold the policy's target reduction with the rate controller (event time, in
    /// spans), as `serve` does on live traffic.
    #[arg(long, value_enum, default_value_t = super::OnOff::Off)]
    adaptive: super::OnOff,
    /// Print the report as JSON instead (on standard output; on standard error with
    /// `-o -`).
    #[arg(long)]
    json: bool,
}

/// Runs `autoscope sample`.
pub fn run(args: Args) -> Result<ExitCode> {
    check_inputs(&args.inputs)?;
    let (policy, mut sampler) = load_sampler(&args.policy)?;
    let mut controller = (args.adaptive == super::OnOff::On)
        .then(|| runtime_sampler::RateController::for_policy(&policy));
    let mut inputs = Inputs::of(args.inputs.iter().map(PathBuf::as_path));
    inputs.add(&args.policy);
    // Every destination is checked before the first input is read.
    let to_stdout = args.output.as_os_str() == "-";
    let to_folder = !to_stdout && (args.inputs.len() > 1 || args.output.is_dir());
    let destinations = if to_folder {
        in_folder(&args.output, &args.inputs, &inputs)?
    } else {
        vec![Destination::file(&args.output, &inputs)?]
    };
    let data_on_stdout = destinations.iter().any(Destination::is_stdout);
    let bar = progress(args.inputs.len());
    let (mut spans_in, mut spans_out) = (0usize, 0usize);
    let mut files = Vec::new();
    for (position, input) in args.inputs.iter().enumerate() {
        bar.set_message(input.display().to_string());
        let destination = &destinations[position.min(destinations.len() - 1)];
        // Opened before the input is read: a stop by signal while reading removes the
        // temporary file.
        let mut output = destination.open()?;
        let doc = read_traces(input)?;
        let groups = TraceGroups::of(&doc.spans);
        let sampled = sample_document_adaptive(&mut sampler, &doc, &groups, controller.as_mut());
        spans_in += doc.spans.len();
        spans_out += sampled.kept.len();
        let written = trace_formats::write(&doc, &sampled.kept, &mut output);
        output.complete(written.map_err(anyhow::Error::from))?;
        console::detail(&format!(
            "{}: kept {} of {} spans -> {}",
            input.display(),
            sampled.kept.len(),
            doc.spans.len(),
            destination.name()
        ));
        files.push(serde_json::json!({
            "input": input.display().to_string(),
            "output": destination.name(),
            "format": doc.format.name(),
            "spans": doc.spans.len(),
            "kept": sampled.kept.len(),
        }));
        bar.inc(1);
        if position + 1 == args.inputs.len() {
            // The process ends next: freeing a large document span by span would cost
            // several percent of the run for nothing (ripgrep and rustc skip it too).
            std::mem::forget((doc, groups, sampled));
        }
    }
    bar.finish_and_clear();
    let report = sampler.report();
    if args.json {
        let mut value = report_json(report);
        value["files"] = serde_json::Value::Array(files);
        print_json_report(&value, data_on_stdout)?;
        return Ok(ExitCode::SUCCESS);
    }
    let share = if spans_in == 0 {
        0.0
    } else {
        100.0 * spans_out as f64 / spans_in as f64
    };
    console::status(&format!(
        "kept {spans_out} of {spans_in} spans ({share:.2}%)"
    ));
    if args.report {
        console::report_to_stderr(&report.to_string())?;
        if let Some(controller) = &controller {
            console::report_to_stderr(&format!(
                "rate controller: target kept share {:.3}, scale {:.4} after {} windows\n",
                controller.target_kept_share(),
                controller.scale(),
                controller.windows()
            ))?;
        }
    } else {
        warn_about_structure(report, " (--report shows more)");
    }
    Ok(ExitCode::SUCCESS)
}
