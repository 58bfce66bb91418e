//! `autoscope analyze`: reads a codebase and writes a sampling policy, with a summary
//! on stderr. Also holds the analysis options `check` shares.

use anyhow::{Context, Result};
use autoscope_analysis::analysis::{self, Analysis, AnalyzeOptions};
use autoscope_analysis::diagnostics::Severity;
use autoscope_analysis::discover::{DEFAULT_MAX_FILE_SIZE, DiscoverError, DiscoverOptions};
use autoscope_analysis::policy_gen;
use autoscope_analysis::score::ScoreOptions;
use autoscope_replay::calibrate;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Warnings shown in full before the rest are counted.
const SHOWN_WARNINGS: usize = 20;

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
}

/// Arguments of `autoscope analyze`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source tree to analyze [default: the sample codebases in testdata/].
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// Alias of PATH.
    #[arg(long = "source-dir", value_name = "PATH", conflicts_with = "path")]
    pub source_dir: Option<PathBuf>,
    /// Where to write the policy (`-` for stdout).
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        default_value = "autoscope-policy.json"
    )]
    pub output: PathBuf,
    /// Share of span volume to remove, in [0, 1].
    #[arg(long, value_name = "SHARE", default_value_t = 0.8)]
    pub target_reduction: f64,
    /// Print no summary.
    #[arg(short, long)]
    pub quiet: bool,
    /// Also write the extracted facts of every file as JSON (for debugging extractors).
    #[arg(long, value_name = "FILE", hide = true)]
    pub dump_facts: Option<PathBuf>,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

/// Runs `autoscope analyze`.
pub fn run(args: Args) -> Result<ExitCode> {
    let root = match args.path.clone().or(args.source_dir.clone()) {
        Some(path) => path,
        None => default_source()?,
    };
    let analysis = run_analysis(&root, &args.analysis, args.target_reduction, args.quiet)?;
    if let Some(path) = &args.dump_facts {
        let facts = serde_json::to_string_pretty(&analysis.program.files)?;
        super::write_atomically(path, |out| {
            out.write_all(facts.as_bytes())?;
            Ok(())
        })?;
    }
    let json = policy_gen::to_json(&analysis.policy);
    if args.output == Path::new("-") {
        print!("{json}");
    } else {
        super::write_atomically(&args.output, |out| {
            out.write_all(json.as_bytes())?;
            Ok(())
        })?;
        if !args.quiet {
            eprintln!("wrote {}", args.output.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The sample codebases that ship with Autoscope: `testdata/` beside the sources this
/// binary was built from, else `testdata/` in the current directory.
pub fn default_source() -> Result<PathBuf> {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata");
    let candidates = [built, PathBuf::from("testdata")];
    candidates
        .into_iter()
        .find(|p| p.is_dir())
        .ok_or_else(|| super::input_error("no PATH given and no sample codebase (testdata/) found; give the source tree to analyze"))
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
pub fn run_analysis(
    root: &Path,
    args: &AnalysisArgs,
    target_reduction: f64,
    quiet: bool,
) -> Result<Analysis> {
    if !(0.0..=1.0).contains(&target_reduction) {
        return Err(super::input_error(format!(
            "--target-reduction {target_reduction} is outside [0, 1]"
        )));
    }
    let instrumentation = instrumentation_profiles(&args.instrumentation)?;
    let started = Instant::now();
    let trace_docs = read_traces(&args.traces)?;
    let (trace_spans, trace_error_spans) = trace_span_names(&trace_docs);
    let options = AnalyzeOptions {
        discover: DiscoverOptions {
            include_tests: args.include_tests,
            include: args.include.clone(),
            exclude: args.exclude.clone(),
            max_file_size: args.max_file_size,
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
    let show_progress = !quiet && std::io::stderr().is_terminal();
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
            eprintln!("{diagnostic}");
        }
        return Err(super::input_error(format!(
            "{}: no Java, Python or Go source files to analyze (refusing to write a policy that would sample everything at the default rate)",
            root.display()
        )));
    }
    if !quiet {
        print_summary(&analysis, started.elapsed().as_secs_f64());
    }
    if let Some(volumes) = analysis.volumes.clone() {
        // Rates from volumes alone overshoot: the overrides and the ancestor pass keep
        // more. Tighten until the runtime sampler meets the target on the sample.
        let policy_options = policy_gen::PolicyOptions {
            target_reduction,
            source_root: options.source_root_label.clone(),
        };
        let calibrated =
            calibrate::calibrate(&analysis.drafts, &volumes, &policy_options, &trace_docs);
        analysis.policy = calibrated.policy;
        if let Some(share) = calibrated.kept_share.filter(|_| !quiet) {
            eprintln!(
                "on the trace sample the policy keeps {:.1}% of {} spans (target: at most {:.1}%)",
                100.0 * share,
                trace_docs.iter().map(|d| d.spans.len()).sum::<usize>(),
                100.0 * (1.0 - target_reduction)
            );
        }
    }
    Ok(analysis)
}

/// The trace sample given with `--traces`.
fn read_traces(paths: &[PathBuf]) -> Result<Vec<trace_formats::TraceDocument>> {
    paths
        .iter()
        .map(|path| {
            trace_formats::read_path(path)
                .map_err(|e| super::input_error(e.to_string()))
                .with_context(|| format!("reading traces {}", path.display()))
        })
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

fn print_summary(analysis: &Analysis, seconds: f64) {
    let stats = &analysis.stats;
    let files: usize = stats.files.values().sum();
    let per_language: Vec<String> = stats
        .files
        .iter()
        .map(|(language, n)| format!("{} {n}", format!("{language:?}").to_ascii_lowercase()))
        .collect();
    let warnings: Vec<_> = analysis
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .collect();
    for warning in warnings.iter().take(SHOWN_WARNINGS) {
        eprintln!("{warning}");
    }
    if warnings.len() > SHOWN_WARNINGS {
        eprintln!("... and {} more warnings", warnings.len() - SHOWN_WARNINGS);
    }
    let kept = analysis
        .policy
        .rules
        .iter()
        .filter(|r| r.action == policy_schema::Action::Keep)
        .count();
    eprintln!(
        "analyzed {files} files ({}), {} lines, {} services: {} functions, {} call edges ({} cross-service), {} span sites, {} rules ({kept} keep); {} syntax errors, {} warnings; {:.2} s ({:.0} lines/s)",
        per_language.join(", "),
        stats.lines,
        stats.services,
        stats.functions,
        stats.call_edges,
        stats.cross_service_edges,
        stats.span_sites,
        stats.rules,
        stats.syntax_errors,
        warnings.len(),
        seconds,
        stats.lines as f64 / seconds.max(1e-9),
    );
}
