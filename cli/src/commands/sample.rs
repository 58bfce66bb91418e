//! `autoscope sample`: apply a policy to trace files and write the kept spans in the
//! input's format.

use super::console;
use super::output::{Destination, Inputs, in_folder};
use super::traces::{
    StreamArgs, check_inputs, load_sampler, open_traces, print_json_report, progress, report_json,
    spill_note, warn_about_split_traces, warn_about_structure,
};
use anyhow::Result;
use autoscope_replay::apply::sample_document_adaptive;
use autoscope_replay::stream::StreamStats;
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
    #[command(flatten)]
    stream: StreamArgs,
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
        let mut reader = open_traces(input)?;
        let shape = reader.shape();
        let (mut file_in, mut file_out) = (0usize, 0usize);
        let mut writer = trace_formats::StreamWriter::default();
        let mut streamed = StreamStats::default();
        let written = autoscope_replay::stream::for_each_batch(
            &mut reader,
            &args.stream.limits(),
            |doc, groups| -> Result<()> {
                let sampled =
                    sample_document_adaptive(&mut sampler, doc, groups, controller.as_mut());
                file_in += doc.spans.len();
                file_out += sampled.kept.len();
                Ok(writer.write(doc, &sampled.kept, &mut output)?)
            },
        )
        .and_then(|stats| {
            streamed = stats;
            Ok(writer.finish(&shape, &mut output)?)
        });
        output.complete(written)?;
        warn_about_split_traces(input, &streamed);
        spans_in += file_in;
        spans_out += file_out;
        console::detail(&format!(
            "{}: kept {file_out} of {file_in} spans -> {}{}",
            input.display(),
            destination.name(),
            spill_note(&streamed)
        ));
        files.push(serde_json::json!({
            "input": input.display().to_string(),
            "output": destination.name(),
            "format": shape.format.name(),
            "spans": file_in,
            "kept": file_out,
            "streaming": streamed,
        }));
        bar.inc(1);
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
