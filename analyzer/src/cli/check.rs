//! `autoscope check`.

use anyhow::Result;
use std::process::ExitCode;

/// Arguments of `autoscope check`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `autoscope check`.
pub fn run(_args: Args) -> Result<ExitCode> {
    Err(super::input_error("`check` is not available in this build yet"))
}
