//! `autoscope explain`.

use anyhow::Result;
use std::process::ExitCode;

/// Arguments of `autoscope explain`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `autoscope explain`.
pub fn run(_args: Args) -> Result<ExitCode> {
    Err(super::input_error("`explain` is not available in this build yet"))
}
