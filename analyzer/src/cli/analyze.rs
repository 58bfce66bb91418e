//! `autoscope analyze`.

use anyhow::Result;
use std::process::ExitCode;

/// Arguments of `autoscope analyze`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `autoscope analyze`.
pub fn run(_args: Args) -> Result<ExitCode> {
    Err(super::input_error("`analyze` is not available in this build yet"))
}
