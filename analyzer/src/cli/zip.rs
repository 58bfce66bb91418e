//! `autoscope zip` and `autoscope unzip`.

use anyhow::Result;
use std::process::ExitCode;

/// Arguments of `autoscope zip`.
#[derive(Debug, clap::Args)]
pub struct ZipArgs {}

/// Arguments of `autoscope unzip`.
#[derive(Debug, clap::Args)]
pub struct UnzipArgs {}

/// Runs `autoscope zip`.
pub fn run_zip(_args: ZipArgs) -> Result<ExitCode> {
    Err(super::input_error("`zip` is not available in this build yet"))
}

/// Runs `autoscope unzip`.
pub fn run_unzip(_args: UnzipArgs) -> Result<ExitCode> {
    Err(super::input_error("`unzip` is not available in this build yet"))
}
