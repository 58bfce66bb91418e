//! `autoscope convert`: reads trace files in any supported format and writes their
//! spans as one OTLP/JSON file, with ids made valid for OTLP.

use super::console;
use super::output::{Destination, Inputs};
use super::traces::{check_inputs, open_traces};
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
    // A block of each input at a time, each written as one request line (OTLP/JSON
    // files hold one request per line, as the Collector's file exporter writes them).
    let mut spans = 0usize;
    let mut wrote_any = false;
    let mut written: Result<()> = Ok(());
    for (i, input) in args.inputs.iter().enumerate() {
        if progress {
            console::progress_line(&format!(
                "convert: {}/{}: {}",
                i + 1,
                args.inputs.len(),
                input.display()
            ));
        }
        let mut reader = open_traces(input)?;
        let mut input_spans = 0usize;
        while written.is_ok()
            && let Some(doc) = reader.next_block()?
        {
            input_spans += doc.spans.len();
            if doc.spans.is_empty() && wrote_any {
                continue;
            }
            wrote_any = true;
            written = trace_formats::write_otlp_json(&doc.otlp_spans(), &mut output)
                .with_context(|| format!("{}: cannot write OTLP/JSON", destination.name()));
        }
        console::detail(&format!(
            "{}: {input_spans} spans ({})",
            input.display(),
            reader.format()
        ));
        spans += input_spans;
    }
    output.complete(written)?;
    let done = format!("convert: wrote {} spans to {}", spans, destination.name());
    if progress {
        // The progress line ends with what was done.
        console::progress_line(&done);
        console::status("");
    } else {
        console::detail(&done);
    }
    Ok(ExitCode::SUCCESS)
}
