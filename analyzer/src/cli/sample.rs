//! `autoscope sample`.

use anyhow::Result;
use std::process::ExitCode;

/// Arguments of `autoscope sample`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `autoscope sample`.
pub fn run(_args: Args) -> Result<ExitCode> {
    Err(super::input_error("`sample` is not available in this build yet"))
}
