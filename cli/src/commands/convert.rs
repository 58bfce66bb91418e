//! `autoscope convert`: reads trace files in any supported format and writes their
//! spans as one OTLP/JSON file, with ids made valid for OTLP.

use anyhow::{Context, Result};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `autoscope convert`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Trace files (OTLP/JSON, Jaeger JSON, Zipkin v2 JSON, SkyWalking CSV or research
    /// CSV; the format is told from the content).
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Output file (OTLP/JSON), written atomically; `-` for standard output.
    #[arg(short, long, value_name = "OUT.json")]
    output: PathBuf,
}

/// Runs `autoscope convert`.
pub fn run(args: Args) -> Result<ExitCode> {
    let progress = std::io::stderr().is_terminal();
    let mut spans = Vec::new();
    for (i, input) in args.inputs.iter().enumerate() {
        if progress {
            eprint!(
                "\rconvert: reading {}/{}: {}\x1b[K",
                i + 1,
                args.inputs.len(),
                input.display()
            );
        }
        let doc = trace_formats::read_path(input)?;
        spans.extend(doc.otlp_spans());
    }
    if progress {
        eprint!("\rconvert: writing {} spans\x1b[K", spans.len());
    }
    let write = |out: &mut dyn Write| -> Result<()> {
        trace_formats::write_otlp_json(&spans, out)
            .with_context(|| format!("{}: cannot write OTLP/JSON", args.output.display()))
    };
    if args.output.as_os_str() == "-" {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        write(&mut out)?;
        out.flush().context("cannot write to standard output")?;
    } else {
        super::write_atomically(&args.output, write)?;
    }
    if progress {
        eprintln!(
            "\rconvert: wrote {} spans to {}\x1b[K",
            spans.len(),
            args.output.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
