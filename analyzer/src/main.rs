//! The `autoscope` command line: parses arguments, runs one command, and maps its
//! outcome to an exit code (0 success, 1 a check that found differences, 2 usage or
//! input errors).

use clap::Parser;
use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("autoscope: {e:#}");
            ExitCode::from(cli::exit_code_of(&e))
        }
    }
}
