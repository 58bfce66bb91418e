//! `autoscope convert`.

use anyhow::Result;
use std::process::ExitCode;

/// Arguments of `autoscope convert`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `autoscope convert`.
pub fn run(_args: Args) -> Result<ExitCode> {
    Err(super::input_error("`convert` is not available in this build yet"))
}
