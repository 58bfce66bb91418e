//! `autoscope analyze`: reads a codebase and writes a sampling policy, with a summary
//! on stderr. Also holds the analysis options `check` shares, and how the policy
//! records them (`generator.source_root`, `generator.arguments`) so that `check`
//! regenerates it exactly.

use super::console;
use super::output::{Destination, Inputs};
use anyhow::{Context, Result};
use autoscope_analysis::analysis::{self, Analysis, AnalyzeOptions};
use autoscope_analysis::diagnostics::{Diagnostic, Severity};
use autoscope_analysis::discover::{DEFAULT_MAX_FILE_SIZE, DiscoverError, DiscoverOptions};
use autoscope_analysis::policy_gen;
use autoscope_analysis::score::{DEFAULT_CRITICAL_NAMES, ScoreOptions};
use autoscope_replay::calibrate;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Warnings shown in full before the rest are counted (all with `--verbose`).
const SHOWN_WARNINGS: usize = 20;

/// The default `--target-reduction`.
pub const DEFAULT_TARGET_REDUCTION: f64 = 0.8;

/// Options that decide what the analysis reads and how it scores.
#[derive(Debug, Clone, clap::Args)]
pub struct AnalysisArgs {
    /// Analyze tests too (src/test/, *_test.go, test_*.py, tests/).
    #[arg(long)]
    pub include_tests: bool,
    /// Only analyze files matching this glob (relative path; repeatable).
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Skip files matching this glob (relative path; repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Words that make a name business-critical (comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "WORDS",
        default_value = "payment,order,checkout,auth,security"
    )]
    pub critical_names: Vec<String>,
    /// Skip source files larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_FILE_SIZE)]
    pub max_file_size: u64,
    /// Follow symbolic links in the source tree (not followed by default; a link out
    /// of the tree is reported).
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Trace files (any format autoscope reads) to measure span volume with.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub traces: Vec<PathBuf>,
    /// Instrumentation profiles whose span names to predict (comma-separated, e.g.
    /// `otel-java@2,skywalking`); `auto` detects them per service from build files and
    /// uses every profile of a language where nothing is detected.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "PROFILES",
        default_value = "auto"
    )]
    pub instrumentation: Vec<String>,
    /// Hold this share of the `--traces` sample's traces out of calibration (split by
    /// trace id) and report what the policy keeps of both halves.
    #[arg(long, value_name = "FRACTION", requires = "traces")]
    pub holdout: Option<f64>,
}

impl AnalysisArgs {
    /// The options that differ from the defaults, as `autoscope analyze` arguments in
    /// a fixed order; trace paths relative to `base` (the policy file's folder).
    pub fn to_arguments(&self, base: &Path) -> Vec<String> {
        let mut out = Vec::new();
        if self.include_tests {
            out.push("--include-tests".to_string());
        }
        if self.follow_symlinks {
            out.push("--follow-symlinks".to_string());
        }
        for glob in &self.include {
            out.extend(["--include".to_string(), glob.clone()]);
        }
        for glob in &self.exclude {
            out.extend(["--exclude".to_string(), glob.clone()]);
        }
        if self.critical_names != DEFAULT_CRITICAL_NAMES {
            out.extend([
                "--critical-names".to_string(),
                self.critical_names.join(","),
            ]);
        }
        if self.max_file_size != DEFAULT_MAX_FILE_SIZE {
            out.extend([
                "--max-file-size".to_string(),
                self.max_file_size.to_string(),
            ]);
        }
        for trace in &self.traces {
            out.extend(["--traces".to_string(), relative_to(trace, base)]);
        }
        if self.instrumentation.iter().any(|p| p != "auto") {
            out.extend([
                "--instrumentation".to_string(),
                self.instrumentation.join(","),
            ]);
        }
        if let Some(holdout) = self.holdout {
            out.extend(["--holdout".to_string(), holdout.to_string()]);
        }
        out
    }

    /// Reads the options back from `generator.arguments`; trace paths are relative to
    /// `base` (the policy file's folder).
    pub fn from_arguments(arguments: &[String], base: &Path) -> Result<Self, clap::Error> {
        #[derive(clap::Parser)]
        #[command(name = "generator.arguments", no_binary_name = true)]
        struct Recorded {
            #[command(flatten)]
            analysis: AnalysisArgs,
        }
        let mut parsed = <Recorded as clap::Parser>::try_parse_from(arguments)?.analysis;
        for trace in &mut parsed.traces {
            if trace.is_relative() {
                *trace = base.join(&*trace);
            }
        }
        Ok(parsed)
    }
}

/// Arguments of `autoscope analyze`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source tree to analyze [default: the current folder]; `testdata/` holds
    /// sample codebases to try.
    #[arg(value_name = "SOURCE")]
    pub path: Option<PathBuf>,
    /// Alias of SOURCE.
    #[arg(long = "source-dir", value_name = "SOURCE", conflicts_with = "path")]
    pub source_dir: Option<PathBuf>,
    /// Where to write the policy (`-` for standard output).
    #[arg(
        short = 'o',
        long = "output",
        value_name = "PATH",
        default_value = "autoscope-policy.json"
    )]
    pub output: PathBuf,
    /// Share of span volume to remove, in [0, 1].
    #[arg(long, value_name = "SHARE", default_value_t = DEFAULT_TARGET_REDUCTION)]
    pub target_reduction: f64,
    /// Print the summary as JSON (on standard output; on standard error with `-o -`).
    #[arg(long)]
    pub json: bool,
    /// Also write the extracted facts of every file as JSON (for debugging extractors).
    #[arg(long, value_name = "PATH", hide = true)]
    pub dump_facts: Option<PathBuf>,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

/// Runs `autoscope analyze`.
pub fn run(args: Args) -> Result<ExitCode> {
    let root = args
        .path
        .clone()
        .or(args.source_dir.clone())
        .unwrap_or_else(|| PathBuf::from("."));
    check_target_reduction(args.target_reduction)?;
    // The outputs are checked before the analysis runs.
    let inputs = Inputs::of(args.analysis.traces.iter().map(PathBuf::as_path));
    let destination = Destination::file(&args.output, &inputs)?;
    let facts_destination = match &args.dump_facts {
        Some(path) => Some(Destination::file(path, &inputs)?),
        None => None,
    };
    let run = run_analysis(&root, &args.analysis, args.target_reduction)?;
    let mut policy = run.analysis.policy.clone();
    let base = policy_folder(&args.output);
    policy.generator.source_root = Some(relative_to(&root, &base));
    policy.generator.arguments = args.analysis.to_arguments(&base);
    if let Some(facts_destination) = &facts_destination {
        let facts = serde_json::to_string_pretty(&run.analysis.program.files)?;
        facts_destination.write_with(|out| {
            out.write_all(facts.as_bytes())?;
            Ok(())
        })?;
    }
    let json = policy_gen::to_json(&policy);
    destination.write_with(|out| {
        out.write_all(json.as_bytes())?;
        Ok(())
    })?;
    if args.json {
        let mut summary = summary_json(&run);
        summary["source"] = root.display().to_string().into();
        summary["output"] = destination.name().into();
        super::traces::print_json_report(&summary, destination.is_stdout())?;
    } else {
        print_summary(&run);
        if !destination.is_stdout() {
            console::status(&format!("wrote {}", destination.name()));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The folder a policy written to `output` lives in (the current folder for `-`):
/// what recorded paths are relative to.
pub fn policy_folder(output: &Path) -> PathBuf {
    if output.as_os_str() == "-" {
        return PathBuf::from(".");
    }
    match output.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The profile ids `--instrumentation` names (empty for `auto`); an unknown id is a
/// usage error listing the known ones.
fn instrumentation_profiles(requested: &[String]) -> Result<Vec<String>> {
    let knowledge = autoscope_analysis::knowledge::embedded();
    let requested: Vec<String> = requested
        .iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    if requested.is_empty() || requested.iter().any(|p| p == "auto") {
        if requested.len() > 1 {
            return Err(super::input_error(
                "--instrumentation auto cannot be combined with named profiles",
            ));
        }
        return Ok(Vec::new());
    }
    for id in &requested {
        if knowledge.profile(id).is_none() {
            let known: Vec<&str> = knowledge.profiles.iter().map(|p| p.id.as_str()).collect();
            return Err(super::input_error(format!(
                "--instrumentation: unknown profile {id:?} (known: auto, {})",
                known.join(", ")
            )));
        }
    }
    Ok(requested)
}

/// Runs the analysis with a summary (unless quiet) and maps input problems to exit 2.
/// `path` relative to the folder `base` (both taken from the current folder), with
/// `/` separators; `.` for the folder itself.
pub fn relative_to(path: &Path, base: &Path) -> String {
    let absolute = |p: &Path| std::path::absolute(p).map(|p| normalize(&p));
    let relative = match (absolute(path), absolute(base)) {
        (Ok(path), Ok(base)) => pathdiff::diff_paths(&path, &base).unwrap_or(path),
        _ => path.to_path_buf(),
    };
    let text = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    if text.is_empty() { ".".into() } else { text }
}

/// `path` without `.` components and with `..` applied lexically.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn check_target_reduction(target_reduction: f64) -> Result<()> {
    if (0.0..=1.0).contains(&target_reduction) {
        Ok(())
    } else {
        Err(super::input_error(format!(
            "--target-reduction {target_reduction} is outside [0, 1]"
        )))
    }
}

/// An analysis and what its summary says.
pub struct AnalysisRun {
    /// The analysis (its policy calibrated on the trace sample, if one was given).
    pub analysis: Analysis,
    /// Wall time of the analysis.
    pub seconds: f64,
    /// Spans in the trace sample (its calibration half with `--holdout`), and the share
    /// the policy keeps of them.
    pub trace_sample: Option<(usize, f64)>,
    /// With `--holdout`: spans held out of calibration, and the share the policy keeps.
    pub holdout_sample: Option<(usize, f64)>,
    /// The target reduction the policy was made for.
    pub target_reduction: f64,
}

/// Runs the analysis and maps input problems to exit 2. Prints nothing.
pub fn run_analysis(
    root: &Path,
    args: &AnalysisArgs,
    target_reduction: f64,
) -> Result<AnalysisRun> {
    check_target_reduction(target_reduction)?;
    let instrumentation = instrumentation_profiles(&args.instrumentation)?;
    if let Some(holdout) = args.holdout
        && !(holdout > 0.0 && holdout < 1.0)
    {
        return Err(super::input_error(format!(
            "--holdout {holdout} is outside (0, 1)"
        )));
    }
    let started = Instant::now();
    let all_docs = read_traces(&args.traces)?;
    let (trace_docs, holdout_docs) = match args.holdout {
        Some(holdout) => calibrate::split_by_trace_id(&all_docs, holdout),
        None => (all_docs, Vec::new()),
    };
    let (trace_spans, trace_error_spans) = trace_span_names(&trace_docs);
    let options = AnalyzeOptions {
        discover: DiscoverOptions {
            include_tests: args.include_tests,
            include: args.include.clone(),
            exclude: args.exclude.clone(),
            max_file_size: args.max_file_size,
            follow_symlinks: args.follow_symlinks,
        },
        score: ScoreOptions {
            critical_names: args
                .critical_names
                .iter()
                .map(|w| w.trim().to_ascii_lowercase())
                .filter(|w| !w.is_empty())
                .collect(),
        },
        target_reduction,
        source_root_label: Some(root.display().to_string()),
        trace_spans,
        trace_error_spans,
        instrumentation,
    };
    let show_progress = console::progress_allowed();
    let bar = indicatif::ProgressBar::hidden();
    let on_start = |files: usize| {
        if show_progress && files > 200 {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.set_length(files as u64);
        }
    };
    let on_file = || bar.inc(1);
    let mut analysis =
        analysis::analyze_path(root, &options, &on_start, &on_file).map_err(|e| match e {
            DiscoverError::Root { .. } | DiscoverError::BadGlob { .. } => {
                super::input_error(e.to_string())
            }
        })?;
    bar.finish_and_clear();
    if analysis.stats.files.is_empty() {
        for diagnostic in &analysis.diagnostics {
            console::status(&diagnostic.to_string());
        }
        return Err(super::input_error(format!(
            "{}: no Java, Python or Go source files to analyze (refusing to write a policy that would sample everything at the default rate)",
            root.display()
        )));
    }
    let mut trace_sample = None;
    if let Some(volumes) = analysis.volumes.clone() {
        // Rates from volumes alone overshoot: the overrides and the ancestor pass keep
        // more. Tighten until the runtime sampler meets the target on the sample.
        let policy_options = policy_gen::PolicyOptions {
            target_reduction,
            static_target_reduction: None,
            source_root: options.source_root_label.clone(),
        };
        let calibrated = calibrate::calibrate(
            &analysis.drafts,
            &volumes,
            &policy_options,
            &analysis.costs,
            &trace_docs,
        );
        analysis.policy = calibrated.policy;
        if let Some(share) = calibrated.kept_share {
            let spans = trace_docs.iter().map(|d| d.spans.len()).sum::<usize>();
            trace_sample = Some((spans, share));
        }
    }
    let holdout_sample =
        calibrate::simulated_kept_share(&analysis.policy, &holdout_docs).map(|share| {
            let spans = holdout_docs.iter().map(|d| d.spans.len()).sum::<usize>();
            (spans, share)
        });
    Ok(AnalysisRun {
        analysis,
        seconds: started.elapsed().as_secs_f64(),
        trace_sample,
        holdout_sample,
        target_reduction,
    })
}

/// The trace sample given with `--traces`.
fn read_traces(paths: &[PathBuf]) -> Result<Vec<trace_formats::TraceDocument>> {
    if !paths.is_empty() {
        super::traces::check_inputs(paths)?;
    }
    paths
        .iter()
        .map(|path| super::traces::read_traces(path).context("reading the --traces sample"))
        .collect()
}

/// The (service, name) of every span without error status in the trace sample, and
/// the number of error spans.
fn trace_span_names(docs: &[trace_formats::TraceDocument]) -> (Vec<(String, String)>, u64) {
    let mut spans = Vec::new();
    let mut errors = 0;
    for doc in docs {
        for span in &doc.spans {
            if span.is_error() {
                errors += 1;
            } else {
                spans.push((span.service_name().to_string(), span.name.clone()));
            }
        }
    }
    (spans, errors)
}

fn is_syntax_error(diagnostic: &Diagnostic) -> bool {
    diagnostic.message.contains("syntax error")
}

/// Files with syntax errors, each with the line of its first error and the count.
fn syntax_error_files(analysis: &Analysis) -> Vec<serde_json::Value> {
    analysis
        .program
        .files
        .iter()
        .filter(|f| f.syntax_errors > 0)
        .map(|f| {
            serde_json::json!({
                "file": f.path,
                "line": f.first_syntax_error.map(|p| p.line),
                "column": f.first_syntax_error.map(|p| p.column),
                "syntax_errors": f.syntax_errors,
            })
        })
        .collect()
}

/// The summary as JSON (no timing: same input, same bytes).
pub fn summary_json(run: &AnalysisRun) -> serde_json::Value {
    let analysis = &run.analysis;
    let stats = &analysis.stats;
    let files: serde_json::Map<String, serde_json::Value> = stats
        .files
        .iter()
        .map(|(language, n)| (format!("{language:?}").to_ascii_lowercase(), (*n).into()))
        .collect();
    let written = PolicyCounts::of(&analysis.policy);
    serde_json::json!({
        "files": files,
        "lines": stats.lines,
        "services": stats.services,
        "functions": stats.functions,
        "call_edges": stats.call_edges,
        "cross_service_edges": stats.cross_service_edges,
        "span_sites": stats.span_sites,
        "rules": written.rules,
        "keep_rules": written.keep,
        "sampled_rules": written.sampled,
        "default_rate": written.default_rate,
        "syntax_errors": stats.syntax_errors,
        "files_with_syntax_errors": syntax_error_files(analysis),
        "warnings": analysis.diagnostics.iter().filter(|d| d.severity == Severity::Warning).count(),
        "diagnostics": analysis.diagnostics,
        "trace_sample": run.trace_sample.map(|(spans, share)| serde_json::json!({
            "spans": spans,
            "kept_share": share,
            "target_kept_share": 1.0 - run.target_reduction,
        })),
        "holdout_sample": run.holdout_sample.map(|(spans, share)| serde_json::json!({
            "spans": spans,
            "kept_share": share,
        })),
    })
}

/// The text summary on standard error: every file with syntax errors, the first
/// warnings (all with `--verbose`, notes too), and one line of counts.
pub fn print_summary(run: &AnalysisRun) {
    let analysis = &run.analysis;
    let settings = console::settings();
    if settings.quiet {
        return;
    }
    let stats = &analysis.stats;
    let files: usize = stats.files.values().sum();
    let per_language: Vec<String> = stats
        .files
        .iter()
        .map(|(language, n)| format!("{} {n}", format!("{language:?}").to_ascii_lowercase()))
        .collect();
    let (syntax, warnings): (Vec<&Diagnostic>, Vec<&Diagnostic>) = analysis
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .partition(|d| is_syntax_error(d));
    for diagnostic in &syntax {
        console::status(&diagnostic_text(diagnostic));
    }
    let shown = if settings.verbose {
        warnings.len()
    } else {
        SHOWN_WARNINGS
    };
    for warning in warnings.iter().take(shown) {
        console::status(&diagnostic_text(warning));
    }
    if warnings.len() > shown {
        console::status(&format!(
            "... and {} more warnings (--verbose shows them)",
            warnings.len() - shown
        ));
    }
    for note in analysis
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Note)
    {
        console::detail(&note.to_string());
    }
    let written = PolicyCounts::of(&analysis.policy);
    let seconds = run.seconds;
    console::status(&format!(
        "analyzed {files} files ({}), {} lines, {} services: {} functions, {} call edges ({} cross-service), {} span sites, {} rules ({} keep, {} sampled, default rate {}); {} syntax errors in {} files, {} warnings; {:.2} s ({:.0} lines/s)",
        per_language.join(", "),
        stats.lines,
        stats.services,
        stats.functions,
        stats.call_edges,
        stats.cross_service_edges,
        stats.span_sites,
        written.rules,
        written.keep,
        written.sampled,
        written.default_rate,
        stats.syntax_errors,
        syntax.len(),
        syntax.len() + warnings.len(),
        seconds,
        stats.lines as f64 / seconds.max(1e-9),
    ));
    let half = if run.holdout_sample.is_some() {
        "calibration half of the trace sample"
    } else {
        "trace sample"
    };
    if let Some((spans, share)) = run.trace_sample {
        console::status(&format!(
            "on the {half} the policy keeps {:.1}% of {spans} spans (target: at most {:.1}%)",
            100.0 * share,
            100.0 * (1.0 - run.target_reduction)
        ));
    }
    if let Some((spans, share)) = run.holdout_sample {
        console::status(&format!(
            "on the holdout half (not used for calibration) it keeps {:.1}% of {spans} spans",
            100.0 * share
        ));
    }
}

/// What the written policy does (after calibration): the summary describes it, not the
/// draft generation made before.
struct PolicyCounts {
    rules: usize,
    keep: usize,
    sampled: usize,
    default_rate: f64,
}

impl PolicyCounts {
    fn of(policy: &policy_schema::Policy) -> Self {
        let keep = policy
            .rules
            .iter()
            .filter(|r| r.action == policy_schema::Action::Keep)
            .count();
        Self {
            rules: policy.rules.len(),
            keep,
            sampled: policy.rules.len() - keep,
            default_rate: match policy.default_action {
                policy_schema::Action::Keep => 1.0,
                policy_schema::Action::Sample { rate } => rate,
            },
        }
    }
}

fn diagnostic_text(diagnostic: &Diagnostic) -> String {
    let text = diagnostic.to_string();
    match text.strip_prefix("warning: ") {
        Some(rest) => format!(
            "{} {rest}",
            console::paint_err("warning:", console::Tone::Warning)
        ),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_arguments_read_back_to_the_same_options() {
        let args = AnalysisArgs {
            include_tests: true,
            include: vec!["src/**".into()],
            exclude: vec!["gen/**".into(), "x y/*".into()],
            critical_names: vec!["pay".into(), "ship".into()],
            max_file_size: 2048,
            follow_symlinks: true,
            traces: vec![PathBuf::from("policies/../spans.csv")],
            instrumentation: vec!["otel-java@2".into(), "skywalking".into()],
            holdout: Some(0.5),
        };
        let arguments = args.to_arguments(Path::new("policies"));
        assert_eq!(
            arguments,
            [
                "--include-tests",
                "--follow-symlinks",
                "--include",
                "src/**",
                "--exclude",
                "gen/**",
                "--exclude",
                "x y/*",
                "--critical-names",
                "pay,ship",
                "--max-file-size",
                "2048",
                "--traces",
                "../spans.csv",
                "--instrumentation",
                "otel-java@2,skywalking",
                "--holdout",
                "0.5"
            ]
        );
        let back = AnalysisArgs::from_arguments(&arguments, Path::new("policies")).unwrap();
        assert_eq!(back.to_arguments(Path::new("policies")), arguments);
        assert_eq!(back.traces, [PathBuf::from("policies/../spans.csv")]);
        let defaults = AnalysisArgs::from_arguments(&[], Path::new(".")).unwrap();
        assert!(defaults.to_arguments(Path::new(".")).is_empty());
        assert!(AnalysisArgs::from_arguments(&["--no-such-flag".into()], Path::new(".")).is_err());
    }

    #[test]
    fn paths_are_recorded_relative_to_the_policy_folder() {
        assert_eq!(relative_to(Path::new("src"), Path::new(".")), "src");
        assert_eq!(relative_to(Path::new("."), Path::new(".")), ".");
        assert_eq!(
            relative_to(Path::new("src/app"), Path::new("policies")),
            "../src/app"
        );
        assert_eq!(relative_to(Path::new("a/b"), Path::new("a/b/c")), "..");
        assert_eq!(relative_to(Path::new("/x/y"), Path::new("/x")), "y");
        assert_eq!(policy_folder(Path::new("p.json")), PathBuf::from("."));
        assert_eq!(policy_folder(Path::new("-")), PathBuf::from("."));
        assert_eq!(policy_folder(Path::new("ci/p.json")), PathBuf::from("ci"));
    }
}
