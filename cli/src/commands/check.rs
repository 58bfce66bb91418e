//! `autoscope check`: re-analyzes the code and compares the result with a committed
//! policy; exit 1 with a readable diff when rules were added, removed or changed
//! (matchers or action), 0 when they agree. Evidence (scores, lines) and the
//! generator block are not compared: they move with every edit without changing what
//! the policy does.

use anyhow::Result;
use policy_schema::{Action, Policy, Rule};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `autoscope check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source tree the policy was generated from.
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// Alias of PATH.
    #[arg(long = "source-dir", value_name = "PATH", conflicts_with = "path")]
    pub source_dir: Option<PathBuf>,
    /// The committed policy.
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    /// Print no summary.
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub analysis: super::analyze::AnalysisArgs,
}

/// Runs `autoscope check`.
pub fn run(args: Args) -> Result<ExitCode> {
    let committed = policy_schema::from_path(&args.policy)?;
    let root = match args.path.clone().or(args.source_dir.clone()) {
        Some(path) => path,
        None => super::analyze::default_source()?,
    };
    let fresh = super::analyze::run_analysis(
        &root,
        &args.analysis,
        committed.target_reduction,
        args.quiet,
    )?
    .policy;
    let diff = diff_policies(&committed, &fresh);
    if diff.is_empty() {
        println!(
            "{}: up to date with {} ({} rules)",
            args.policy.display(),
            root.display(),
            committed.rules.len()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "{}: out of date with {} ({} differences):",
            args.policy.display(),
            root.display(),
            diff.len()
        );
        for line in &diff {
            println!("{line}");
        }
        println!(
            "regenerate with: autoscope analyze {} -o {}",
            root.display(),
            args.policy.display()
        );
        Ok(ExitCode::from(1))
    }
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
            }
            (None, None) => {}
        }
    }
    out
}
