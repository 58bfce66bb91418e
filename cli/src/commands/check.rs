//! `autoscope check`: re-analyzes the code with the options the policy records and
//! compares the result with the committed policy; exit 1 with a readable diff (and
//! the complete command that regenerates it) when rules were added, removed or
//! changed (matchers or action), 0 when they agree. Evidence (scores, lines) and the
//! generator block are not compared: they move with every edit without changing what
//! the policy does.

use super::analyze::{
    AnalysisArgs, DEFAULT_TARGET_REDUCTION, policy_folder, print_summary, relative_to, run_analysis,
};
use super::console::{self, Tone};
use anyhow::Result;
use policy_schema::{Action, Policy, Rule};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `autoscope check`. The analysis options come from the policy
/// (`generator.arguments`), so the check analyzes exactly as `analyze` did.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source tree the policy was generated from [default: the policy's
    /// `generator.source_root`, which is relative to the policy's folder].
    #[arg(value_name = "SOURCE")]
    pub path: Option<PathBuf>,
    /// Alias of SOURCE.
    #[arg(long = "source-dir", value_name = "SOURCE", conflicts_with = "path")]
    pub source_dir: Option<PathBuf>,
    /// The committed policy.
    #[arg(short = 'p', long, value_name = "FILE")]
    pub policy: PathBuf,
    /// Print the result as JSON (the exit code still says whether it differs).
    #[arg(long)]
    pub json: bool,
}

/// Runs `autoscope check`.
pub fn run(args: Args) -> Result<ExitCode> {
    let committed = policy_schema::from_path(&args.policy)?;
    let base = policy_folder(&args.policy);
    let root = match args.path.clone().or(args.source_dir.clone()) {
        Some(path) => path,
        None => match &committed.generator.source_root {
            Some(recorded) => base.join(recorded),
            None => PathBuf::from("."),
        },
    };
    let analysis_args = AnalysisArgs::from_arguments(&committed.generator.arguments, &base)
        .map_err(|e| {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            super::input_error(format!(
                "{}: generator.arguments: {}",
                args.policy.display(),
                first.strip_prefix("error: ").unwrap_or(first)
            ))
        })?;
    let run = run_analysis(&root, &analysis_args, committed.target_reduction)?;
    if !args.json {
        print_summary(&run);
    }
    let fresh = &run.analysis.policy;
    let diff = diff_policies(&committed, fresh);
    let violations = monotone_violations(&committed, &run.analysis);
    let source = relative_to(&root, std::path::Path::new("."));
    let regenerate = regenerate_command(&source, &args, &committed, &analysis_args);
    let policy_name = args.policy.display().to_string();
    if args.json {
        let differences: Vec<serde_json::Value> = diff
            .iter()
            .map(|line| {
                serde_json::json!({
                    "change": &line[..1],
                    "text": &line[2..],
                })
            })
            .collect();
        let value = serde_json::json!({
            "policy": policy_name,
            "source": source,
            "up_to_date": diff.is_empty(),
            "rules": committed.rules.len(),
            "differences": differences,
            "monotone": violations.is_empty(),
            "monotone_violations": violations,
            "regenerate": regenerate,
        });
        super::traces::print_json_report(&value, false)?;
        return Ok(if diff.is_empty() && violations.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    let mut text = String::new();
    if !violations.is_empty() {
        text.push_str(&format!(
            "{policy_name}: not monotone on the call graph ({} edges): a span can be kept while its parent is dropped\n",
            violations.len()
        ));
        for violation in &violations {
            text.push_str(&console::paint_out(
                &format!("! {}", violation.text),
                Tone::Warning,
            ));
            text.push('\n');
        }
    }
    if diff.is_empty() {
        text.push_str(&format!(
            "{policy_name}: up to date with {source} ({} rules)\n",
            committed.rules.len()
        ));
        console::out(&text)?;
        return Ok(if violations.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    text.push_str(&format!(
        "{policy_name}: out of date with {source} ({} differences):\n",
        diff.len()
    ));
    for line in &diff {
        let tone = match line.as_bytes().first() {
            Some(b'+') => Tone::Added,
            Some(b'-') => Tone::Removed,
            _ => Tone::Warning,
        };
        text.push_str(&console::paint_out(line, tone));
        text.push('\n');
    }
    text.push_str(&format!("regenerate with: {regenerate}\n"));
    console::out(&text)?;
    Ok(ExitCode::from(1))
}

/// The complete `autoscope analyze` command that regenerates the policy, quoted for a
/// POSIX shell.
fn regenerate_command(
    source: &str,
    args: &Args,
    committed: &Policy,
    analysis: &AnalysisArgs,
) -> String {
    let mut words = vec![
        "autoscope".to_string(),
        "analyze".to_string(),
        source.to_string(),
        "-o".to_string(),
        args.policy.display().to_string(),
    ];
    if committed.target_reduction != DEFAULT_TARGET_REDUCTION {
        words.push("--target-reduction".to_string());
        words.push(committed.target_reduction.to_string());
    }
    // Trace paths were resolved against the policy's folder: now relative to here.
    words.extend(analysis.to_arguments(std::path::Path::new(".")));
    shell_words::join(words)
}

/// A rule of the committed policy sampled above a rule that can be its parent.
#[derive(Debug, serde::Serialize)]
pub struct Violation {
    /// The child rule.
    pub rule: String,
    /// Its rate.
    pub rate: f64,
    /// The rule that can be its parent.
    pub parent: String,
    /// Its rate.
    pub parent_rate: f64,
    /// The call-graph edge that shows it: child site and parent site (`file:line`).
    pub site: String,
    /// The parent site.
    pub parent_site: String,
    /// One line for people.
    pub text: String,
}

fn rate_of(action: &Action) -> f64 {
    match action {
        Action::Keep => 1.0,
        Action::Sample { rate } => *rate,
    }
}

/// Edges of the fresh analysis's call graph (between rules the committed policy has,
/// by id) where the committed policy samples the child above its possible parent.
pub fn monotone_violations(
    committed: &Policy,
    analysis: &autoscope_analysis::analysis::Analysis,
) -> Vec<Violation> {
    let committed_rates: BTreeMap<&str, f64> = committed
        .rules
        .iter()
        .map(|r| (r.id.as_str(), rate_of(&r.action)))
        .collect();
    let rates: Vec<Option<f64>> = analysis
        .drafts
        .iter()
        .map(|d| committed_rates.get(d.id.as_str()).copied())
        .collect();
    let at = |site: usize| {
        let site = &analysis.sites[site];
        format!("{}:{}", site.file, site.line)
    };
    analysis
        .costs
        .violations(&rates)
        .into_iter()
        .map(|(child, edge)| {
            let (rule, parent) = (&analysis.drafts[child].id, &analysis.drafts[edge.parent].id);
            let (rate, parent_rate) = (
                rates[child].unwrap_or_default(),
                rates[edge.parent].unwrap_or_default(),
            );
            let (site, parent_site) = (at(edge.child_site), at(edge.parent_site));
            Violation {
                text: format!(
                    "{rule} (rate {rate}) above {parent} (rate {parent_rate}), which can be its parent: {site} runs under {parent_site}"
                ),
                rule: rule.clone(),
                rate,
                parent: parent.clone(),
                parent_rate,
                site,
                parent_site,
            }
        })
        .collect()
}

fn action_text(action: &Action) -> String {
    match action {
        Action::Keep => "keep".into(),
        Action::Sample { rate } => format!("sample {rate}"),
    }
}

/// Differences that change behavior, one line each, sorted by rule id.
pub fn diff_policies(committed: &Policy, fresh: &Policy) -> Vec<String> {
    let mut out = Vec::new();
    if committed.default_action != fresh.default_action {
        out.push(format!(
            "~ default action: {} -> {}",
            action_text(&committed.default_action),
            action_text(&fresh.default_action)
        ));
    }
    let old: BTreeMap<&str, &Rule> = committed.rules.iter().map(|r| (r.id.as_str(), r)).collect();
    let new: BTreeMap<&str, &Rule> = fresh.rules.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut ids: Vec<&str> = old.keys().chain(new.keys()).copied().collect();
    ids.sort();
    ids.dedup();
    for id in ids {
        match (old.get(id), new.get(id)) {
            (Some(rule), None) => out.push(format!(
                "- {id} ({}): no longer in the code",
                action_text(&rule.action)
            )),
            (None, Some(rule)) => out.push(format!(
                "+ {id} ({}): new in the code",
                action_text(&rule.action)
            )),
            (Some(a), Some(b)) => {
                if a.action != b.action {
                    out.push(format!(
                        "~ {id}: action {} -> {}",
                        action_text(&a.action),
                        action_text(&b.action)
                    ));
                }
                if a.matchers != b.matchers || a.service != b.service {
                    out.push(format!(
                        "~ {id}: span names {:?} -> {:?}",
                        a.matchers, b.matchers
                    ));
                }
                if a.kind != b.kind || a.attributes != b.attributes {
                    out.push(format!(
                        "~ {id}: conditions kind {:?} attributes {:?} -> kind {:?} attributes {:?}",
                        a.kind, a.attributes, b.kind, b.attributes
                    ));
                }
            }
            (None, None) => {}
        }
    }
    out
}
