//! `autoscope eval`.

use anyhow::Result;
use std::process::ExitCode;

/// Arguments of `autoscope eval`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `autoscope eval`.
pub fn run(_args: Args) -> Result<ExitCode> {
    Err(super::input_error("`eval` is not available in this build yet"))
}
