//! `autoscope coverage`.

use anyhow::Result;
use std::process::ExitCode;

/// Arguments of `autoscope coverage`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `autoscope coverage`.
pub fn run(_args: Args) -> Result<ExitCode> {
    Err(super::input_error("`coverage` is not available in this build yet"))
}
