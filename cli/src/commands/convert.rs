//! `autoscope convert`: reads trace files in any supported format and writes their
//! spans as one OTLP/JSON file, with ids made valid for OTLP.

use super::console;
use super::output::{Destination, Inputs};
use super::traces::{check_inputs, read_traces};
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `autoscope convert`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Trace files (OTLP/JSON, Jaeger JSON, Zipkin v2 JSON, SkyWalking CSV or research
    /// CSV; format and gzip/zstd compression told from the content); `-` reads standard
    /// input.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Output file (OTLP/JSON), written atomically; `-` for standard output.
    #[arg(short = 'o', long, value_name = "PATH")]
    output: PathBuf,
}

/// Runs `autoscope convert`.
pub fn run(args: Args) -> Result<ExitCode> {
    check_inputs(&args.inputs)?;
    let destination = Destination::file(
        &args.output,
        &Inputs::of(args.inputs.iter().map(PathBuf::as_path)),
    )?;
    // Opened first: the temporary file exists while inputs are read (a stop by
    // signal removes it), and a destination that cannot be opened costs no reading.
    let mut output = destination.open()?;
    let progress = console::progress_allowed();
    let mut spans = Vec::new();
    for (i, input) in args.inputs.iter().enumerate() {
        if progress {
            console::progress_line(&format!(
                "convert: reading {}/{}: {}",
                i + 1,
                args.inputs.len(),
                input.display()
            ));
        }
        let doc = read_traces(input)?;
        console::detail(&format!(
            "{}: {} spans ({})",
            input.display(),
            doc.spans.len(),
            doc.format
        ));
        spans.extend(doc.otlp_spans());
    }
    if progress {
        console::progress_line(&format!("convert: writing {} spans", spans.len()));
    }
    let written = trace_formats::write_otlp_json(&spans, &mut output)
        .with_context(|| format!("{}: cannot write OTLP/JSON", destination.name()));
    output.complete(written)?;
    let done = format!(
        "convert: wrote {} spans to {}",
        spans.len(),
        destination.name()
    );
    if progress {
        // The progress line ends with what was done.
        console::progress_line(&done);
        console::status("");
    } else {
        console::detail(&done);
    }
    Ok(ExitCode::SUCCESS)
}
