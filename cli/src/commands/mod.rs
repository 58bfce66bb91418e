//! Subcommands of the `autoscope` binary, one module each, and what they share:
//! error kinds that decide exit codes, and atomic output files.

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

mod analyze;
mod check;
mod convert;
mod coverage;
mod eval;
mod explain;
mod sample;
mod traces;
mod zip;

/// Span-level trace sampling from knowledge of the code.
#[derive(Debug, Parser)]
#[command(name = "autoscope", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Analyze a codebase and write a sampling policy.
    Analyze(analyze::Args),
    /// Check that a committed policy still matches the code (exit 1 with a diff if not).
    Check(check::Args),
    /// Show the rule that decides a span name, its score and the code behind it.
    Explain(explain::Args),
    /// Apply a policy to trace files and write the kept spans.
    Sample(sample::Args),
    /// Compare a policy against head and tail sampling on trace files.
    Eval(eval::Args),
    /// Show which rule matches each span name seen in traces.
    Coverage(coverage::Args),
    /// Convert trace files to OTLP/JSON.
    Convert(convert::Args),
    /// Compress spans losslessly (Span Retrieval Tree).
    Zip(zip::ZipArgs),
    /// Decompress a .tz file to OTLP/JSON.
    Unzip(zip::UnzipArgs),
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Analyze(args) => analyze::run(args),
        Command::Check(args) => check::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Sample(args) => sample::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Coverage(args) => coverage::run(args),
        Command::Convert(args) => convert::run(args),
        Command::Zip(args) => zip::run_zip(args),
        Command::Unzip(args) => zip::run_unzip(args),
    }
}

/// An error caused by the user's input or arguments: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

/// Returns an [`InputError`] as an `anyhow` error.
pub fn input_error(message: impl Into<String>) -> anyhow::Error {
    InputError(message.into()).into()
}

/// Exit code for an error: 2 for input and usage errors (including I/O on input
/// files), 1 otherwise.
pub fn exit_code_of(error: &anyhow::Error) -> u8 {
    let is_input = error.chain().any(|cause| {
        cause.is::<InputError>()
            || cause.is::<std::io::Error>()
            || cause.is::<policy_schema::LoadError>()
            || cause.is::<trace_formats::ReadError>()
            || cause.is::<tracezip::DecodeError>()
    });
    if is_input { 2 } else { 1 }
}

/// Writes `path` atomically: the content goes to a temporary file in the same folder,
/// which is renamed over `path` only when complete, so no half-written file is left.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| input_error(format!("{}: cannot create output: {e}", path.display())))?;
    {
        let mut out = std::io::BufWriter::new(file.as_file_mut());
        write(&mut out)?;
        out.flush()?;
    }
    file.persist(path).map_err(|e| {
        input_error(format!(
            "{}: cannot write output: {}",
            path.display(),
            e.error
        ))
    })?;
    Ok(())
}
