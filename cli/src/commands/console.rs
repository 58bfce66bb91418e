//! Standard output and standard error, written so that a failure never panics
//! (`println!` does): a reader that went away (EPIPE) ends the command quietly with
//! exit 0, as ripgrep does; any other write error is an [`OutputError`] (exit 2).
//!
//! Also the global settings every command honours: `-q/--quiet` (errors only),
//! `-v/--verbose` (every warning and per-file details) and `--color` (with
//! `NO_COLOR`).

use super::output::{OutputError, io_message};
use std::io::{IsTerminal, Write};
use std::sync::OnceLock;

/// When to color the text written to a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorWhen {
    /// When the stream is a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    /// Always, even into a file or a pipe.
    Always,
    /// Never.
    Never,
}

/// How chatty the commands are, and whether they color.
#[derive(Debug, Clone, Copy, Default)]
pub struct Settings {
    /// Errors only: no summaries, no progress, no warnings.
    pub quiet: bool,
    /// Every warning, and details per file.
    pub verbose: bool,
    /// Color standard output.
    pub color_stdout: bool,
    /// Color standard error.
    pub color_stderr: bool,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// Fixes the settings for the process (the first call wins).
pub fn init(quiet: bool, verbose: bool, color: ColorWhen) {
    let wants = |terminal: bool| match color {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => terminal && !no_color_env() && !dumb_terminal(),
    };
    let _ = SETTINGS.set(Settings {
        quiet,
        verbose: verbose && !quiet,
        color_stdout: wants(std::io::stdout().is_terminal()),
        color_stderr: wants(std::io::stderr().is_terminal()),
    });
}

/// `NO_COLOR` set to anything but the empty string (<https://no-color.org>).
pub fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

fn dumb_terminal() -> bool {
    std::env::var_os("TERM").is_some_and(|t| t == "dumb")
}

/// The settings in force.
pub fn settings() -> Settings {
    SETTINGS.get().copied().unwrap_or_default()
}

fn write_stream(name: &str, stream: &mut dyn Write, text: &str) -> Result<(), OutputError> {
    stream
        .write_all(text.as_bytes())
        .and_then(|()| stream.flush())
        .map_err(|error| OutputError {
            target: name.to_string(),
            message: io_message(&error),
            kind: error.kind(),
        })
}

/// Writes `text` to standard output (a command's report or data).
pub fn out(text: &str) -> Result<(), OutputError> {
    write_stream("standard output", &mut std::io::stdout().lock(), text)
}

/// Writes `text` to standard error as a command's report (not a message): a failure
/// is an error like one of standard output.
pub fn report_to_stderr(text: &str) -> Result<(), OutputError> {
    write_stream("standard error", &mut std::io::stderr().lock(), text)
}

/// A message on standard error; best effort (a message that cannot be shown cannot
/// report its own failure either).
fn message(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr
        .write_all(text.as_bytes())
        .and_then(|()| stderr.write_all(b"\n"));
}

/// A status line (`wrote x`, a summary) on standard error, unless quiet.
pub fn status(text: &str) {
    if !settings().quiet {
        message(text);
    }
}

/// A warning on standard error, unless quiet.
pub fn warning(text: &str) {
    if !settings().quiet {
        message(&format!("{} {text}", paint_err("warning:", Tone::Warning)));
    }
}

/// A detail shown only with `--verbose`.
pub fn detail(text: &str) {
    if settings().verbose {
        message(text);
    }
}

/// An error message on standard error, always.
pub fn error(text: &str) {
    message(&format!("{} {text}", paint_err("autoscope:", Tone::Error)));
}

/// What a piece of colored text means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Something added (a new rule).
    Added,
    /// Something removed.
    Removed,
    /// Something changed, or a warning.
    Warning,
    /// An error.
    Error,
}

fn style(tone: Tone) -> anstyle::Style {
    use anstyle::{AnsiColor, Style};
    let color = |c: AnsiColor| Style::new().fg_color(Some(c.into()));
    match tone {
        Tone::Added => color(AnsiColor::Green),
        Tone::Removed => color(AnsiColor::Red),
        Tone::Warning => color(AnsiColor::Yellow).bold(),
        Tone::Error => color(AnsiColor::Red).bold(),
    }
}

fn paint(text: &str, tone: Tone, colored: bool) -> String {
    if colored {
        let style = style(tone);
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text.to_string()
    }
}

/// `text` in `tone` when standard output is colored.
pub fn paint_out(text: &str, tone: Tone) -> String {
    paint(text, tone, settings().color_stdout)
}

/// `text` in `tone` when standard error is colored.
pub fn paint_err(text: &str, tone: Tone) -> String {
    paint(text, tone, settings().color_stderr)
}

/// Redraws a one-line progress message in place on standard error (best effort);
/// an empty text clears the line.
pub fn progress_line(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "\r{text}\x1b[K");
    let _ = stderr.flush();
}

/// Whether progress may be drawn: standard error is a terminal and not quiet.
pub fn progress_allowed() -> bool {
    !settings().quiet && std::io::stderr().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paint_wraps_in_escapes_only_when_colored() {
        assert_eq!(paint("x", Tone::Added, false), "x");
        let colored = paint("x", Tone::Added, true);
        assert!(
            colored.starts_with("\x1b[") && colored.ends_with("\x1b[0m"),
            "{colored:?}"
        );
    }
}
