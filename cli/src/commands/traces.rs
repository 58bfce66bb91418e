//! What the trace commands share: reading trace files with errors that name them, and
//! loading a policy into a sampler.

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use runtime_sampler::Sampler;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use trace_formats::TraceDocument;

/// Reads one trace file; a missing or malformed file is an input error (exit 2).
pub fn read_traces(path: &Path) -> Result<TraceDocument> {
    trace_formats::read_path(path).map_err(|e| super::input_error(e.to_string()))
}

/// Loads a policy and compiles it.
pub fn load_sampler(path: &Path) -> Result<(policy_schema::Policy, Sampler)> {
    let policy = policy_schema::from_path(path)?;
    let sampler = Sampler::new(&policy)
        .map_err(|e| super::input_error(format!("{}: {e}", path.display())))
        .context("cannot compile the policy")?;
    Ok((policy, sampler))
}

/// Checks that every input exists before any work starts, so a typo fails fast.
pub fn check_inputs(inputs: &[PathBuf]) -> Result<()> {
    if inputs.is_empty() {
        return Err(super::input_error("no trace files given"));
    }
    for input in inputs {
        if !input.is_file() {
            return Err(super::input_error(format!(
                "{}: no such file",
                input.display()
            )));
        }
    }
    Ok(())
}

/// A progress bar over input files, shown only when stderr is a terminal.
pub fn progress(files: usize) -> ProgressBar {
    if !std::io::stderr().is_terminal() || files < 2 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(files as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{pos}/{len}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}
