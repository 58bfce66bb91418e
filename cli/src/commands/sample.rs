//! `autoscope sample`: apply a policy to trace files and write the kept spans in the
//! input's format.

use super::traces::{check_inputs, load_sampler, progress, read_traces};
use anyhow::Result;
use autoscope_replay::apply::{TraceGroups, sample_document};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `autoscope sample`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file.
    #[arg(long, short = 'p')]
    policy: PathBuf,
    /// Trace files (OTLP/JSON, Jaeger JSON, Zipkin v2 JSON, SkyWalking CSV, research CSV).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Output: a file for one input, a folder for several (created; each output keeps
    /// its input's file name), or `-` for standard output.
    #[arg(long, short = 'o')]
    output: PathBuf,
    /// Print the per-rule report on stderr.
    #[arg(long)]
    report: bool,
}

/// Runs `autoscope sample`.
pub fn run(args: Args) -> Result<ExitCode> {
    check_inputs(&args.inputs)?;
    let (_, mut sampler) = load_sampler(&args.policy)?;
    let to_stdout = args.output.as_os_str() == "-";
    let to_folder = !to_stdout && (args.inputs.len() > 1 || args.output.is_dir());
    if to_folder {
        std::fs::create_dir_all(&args.output).map_err(|e| {
            super::input_error(format!(
                "{}: cannot create folder: {e}",
                args.output.display()
            ))
        })?;
    }
    let bar = progress(args.inputs.len());
    let (mut spans_in, mut spans_out) = (0usize, 0usize);
    for (position, input) in args.inputs.iter().enumerate() {
        bar.set_message(input.display().to_string());
        let doc = read_traces(input)?;
        let groups = TraceGroups::of(&doc.spans);
        let sampled = sample_document(&mut sampler, &doc, &groups);
        spans_in += doc.spans.len();
        spans_out += sampled.kept.len();
        let write = |out: &mut dyn Write| -> Result<()> {
            trace_formats::write(&doc, &sampled.kept, out)?;
            Ok(())
        };
        if to_stdout {
            let stdout = std::io::stdout();
            let mut lock = std::io::BufWriter::new(stdout.lock());
            write(&mut lock)?;
            lock.flush()?;
        } else {
            let target = if to_folder {
                args.output
                    .join(input.file_name().unwrap_or(input.as_os_str()))
            } else {
                args.output.clone()
            };
            super::write_atomically(&target, write)?;
        }
        bar.inc(1);
        if position + 1 == args.inputs.len() {
            // The process ends next: freeing a large document span by span would cost
            // several percent of the run for nothing (ripgrep and rustc skip it too).
            std::mem::forget((doc, groups, sampled));
        }
    }
    bar.finish_and_clear();
    let share = if spans_in == 0 {
        0.0
    } else {
        100.0 * spans_out as f64 / spans_in as f64
    };
    eprintln!("kept {spans_out} of {spans_in} spans ({share:.2}%)");
    if args.report {
        eprint!("{}", sampler.report());
    }
    Ok(ExitCode::SUCCESS)
}
