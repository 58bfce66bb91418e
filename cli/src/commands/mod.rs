//! Subcommands of the `autoscope` binary, one module each, and what they share:
//! error kinds that decide exit codes, outputs that never destroy data ([`output`]),
//! and standard output and error that never panic ([`console`]).

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod analyze;
mod check;
pub mod console;
mod convert;
mod coverage;
mod docs;
mod eval;
mod explain;
mod inject;
pub mod output;
mod sample;
mod serve;
mod traces;
mod zip;

/// What `--help` says about exit codes and outputs.
const AFTER_HELP: &str = "\
Exit codes: 0 success (also when the reader of standard output goes away, as in `| head`); \
1 `check` found differences (only that); 2 usage, input or output errors (the message names \
the file, and the line where known); 3 internal errors (a bug); 128 + N when stopped by \
signal N (130 for Ctrl-C, 143 for SIGTERM).

Outputs: `-` is standard output; devices, FIFOs and sockets are written in place; a regular \
file is replaced atomically (temporary `.NAME.autoscope-tmp.PID.RANDOM` beside it, removed on \
failure and on SIGINT/SIGTERM), keeping its mode; an output that is one of the inputs is refused.";

/// Span-level trace sampling from knowledge of the code.
#[derive(Debug, Parser)]
#[command(
    name = "autoscope",
    version,
    about,
    propagate_version = true,
    after_help = AFTER_HELP
)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Options every command takes.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Global options")]
struct GlobalArgs {
    /// Print only errors: no summary, no warnings, no progress.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Print more: every warning, details per file.
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    verbose: bool,
    /// When to color text (`auto`: on a terminal, unless NO_COLOR is set).
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        default_value_t = console::ColorWhen::Auto
    )]
    color: console::ColorWhen,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Analyze a codebase and write a sampling policy.
    Analyze(analyze::Args),
    /// Check that a committed policy still matches the code (exit 1 with a diff if not).
    Check(check::Args),
    /// Show the rule that decides a span name, its score and the code behind it.
    Explain(explain::Args),
    /// Apply a policy to trace files and write the kept spans.
    Sample(sample::Args),
    /// Compare a policy against head and tail sampling on trace files.
    Eval(eval::Args),
    /// Inject latency faults (a delay, or contention in one service) into a span CSV.
    Inject(inject::Args),
    /// Show which rule matches each span name seen in traces.
    Coverage(coverage::Args),
    /// Convert trace files to OTLP/JSON.
    Convert(convert::Args),
    /// Compress spans losslessly (Span Retrieval Tree).
    Zip(zip::ZipArgs),
    /// Decompress a .tz file to OTLP/JSON.
    Unzip(zip::UnzipArgs),
    /// Run the OTLP sampling gateway: receive spans, sample them span by span, forward
    /// the kept ones.
    Serve(serve::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(docs::CompletionsArgs),
    /// Print the manual page, or write one per command into a folder.
    Man(docs::ManArgs),
}

impl Cli {
    /// Whether the command installs its own signal handling (`serve`).
    pub fn handles_own_signals(&self) -> bool {
        matches!(self.command, Command::Serve(_))
    }
}

/// Parses the command line; `--color` (and `NO_COLOR`) also decide whether clap's own
/// help and errors are colored.
pub fn parse_args() -> Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let command = Cli::command().color(clap_color(&raw));
    let matches = command.try_get_matches_from(raw)?;
    Cli::from_arg_matches(&matches)
}

/// The color choice `--color` asks for, read before clap parses (its errors need it).
fn clap_color(raw: &[std::ffi::OsString]) -> clap::ColorChoice {
    let mut asked = None;
    for (i, arg) in raw.iter().enumerate() {
        let arg = arg.to_string_lossy();
        if arg == "--" {
            break;
        }
        if let Some(value) = arg.strip_prefix("--color=") {
            asked = Some(value.to_string());
        } else if arg == "--color" {
            asked = raw.get(i + 1).map(|v| v.to_string_lossy().into_owned());
        }
    }
    match asked.as_deref() {
        Some("always") => clap::ColorChoice::Always,
        Some("never") => clap::ColorChoice::Never,
        _ if console::no_color_env() => clap::ColorChoice::Never,
        _ => clap::ColorChoice::Auto,
    }
}

/// Prints a clap error (or `--help`, `--version`) and gives its exit code: 2 for usage
/// errors, 0 for help and version. A closed standard output is not an error.
pub fn usage_error_exit(error: &clap::Error) -> ExitCode {
    let code = if error.use_stderr() { EXIT_USAGE } else { 0 };
    let _ = error.print();
    ExitCode::from(code)
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<ExitCode> {
    console::init(cli.global.quiet, cli.global.verbose, cli.global.color);
    match cli.command {
        Command::Analyze(args) => analyze::run(args),
        Command::Check(args) => check::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Sample(args) => sample::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Inject(args) => inject::run(args),
        Command::Coverage(args) => coverage::run(args),
        Command::Convert(args) => convert::run(args),
        Command::Zip(args) => zip::run_zip(args),
        Command::Unzip(args) => zip::run_unzip(args),
        Command::Serve(args) => serve::run(args),
        Command::Completions(args) => docs::run_completions(args),
        Command::Man(args) => docs::run_man(args),
    }
}

/// Whether the command failed only because the reader of its output went away
/// (EPIPE on standard output, standard error or a FIFO): that ends it quietly, exit 0.
pub fn reader_went_away(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<output::OutputError>()
            .is_some_and(|e| e.kind == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The error and its causes, each said once: a cause whose text an earlier message
/// already holds (`x: cannot read: No such file or directory` over the same I/O
/// error) is left out, and so are `(os error N)` suffixes.
pub fn render_error(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        let part = match part.rfind(" (os error ") {
            Some(at) if part.ends_with(')') => &part[..at],
            _ => &part,
        };
        if part.is_empty() || text.contains(part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(part);
    }
    text
}

/// Exit code: a usage, input or output error.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: an internal error (a bug in Autoscope).
pub const EXIT_INTERNAL: u8 = 3;

/// An error caused by the user's input or arguments: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

/// Returns an [`InputError`] as an `anyhow` error.
pub fn input_error(message: impl Into<String>) -> anyhow::Error {
    InputError(message.into()).into()
}

/// Exit code for an error: 2 for usage, input and output errors (including I/O on
/// input files), 3 for internal errors (bugs).
pub fn exit_code_of(error: &anyhow::Error) -> u8 {
    let is_input = error.chain().any(|cause| {
        cause.is::<InputError>()
            || cause.is::<output::OutputError>()
            || cause.is::<std::io::Error>()
            || cause.is::<policy_schema::LoadError>()
            || cause.is::<trace_formats::ReadError>()
            || cause.is::<tracezip::DecodeError>()
            || cause.is::<autoscope_gateway::SetupError>()
    });
    if is_input { EXIT_USAGE } else { EXIT_INTERNAL }
}

/// A switch given as `on` or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnOff {
    /// Enabled.
    On,
    /// Disabled.
    Off,
}
