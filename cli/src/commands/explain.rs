//! `autoscope explain`: which rule of a policy decides a span name (with the runtime
//! sampler's matcher, so precedence is the same as at run time: exact > template >
//! prefix > glob, service-specific first), its score breakdown, and the code behind
//! each reason when the source tree is readable.

use super::console;
use anyhow::Result;
use policy_schema::{Action, Matcher, Policy, Rule};
use runtime_sampler::matcher::CompiledMatchers;
use runtime_sampler::{AttributeValue, SpanStart};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Lines of source shown around each evidence line.
const CONTEXT_LINES: u32 = 2;

/// Arguments of `autoscope explain`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy.
    #[arg(short = 'p', long, value_name = "FILE")]
    pub policy: PathBuf,
    /// The span name, as the trace shows it.
    #[arg(value_name = "SPAN-NAME")]
    pub span_name: String,
    /// Service that recorded the span [default: every service with a matching rule].
    #[arg(long, value_name = "SERVICE")]
    pub service: Option<String>,
    /// The span's kind, for rules with a kind condition.
    #[arg(long, value_name = "KIND", value_parser = parse_kind)]
    pub kind: Option<policy_schema::SpanKind>,
    /// A start attribute of the span, for rules with attribute conditions (repeatable;
    /// the value is compared as text).
    #[arg(long = "attribute", value_name = "KEY=VALUE", value_parser = parse_attribute)]
    pub attributes: Vec<(String, String)>,
    /// Source tree to show code from [default: the policy's source root].
    #[arg(long = "source-dir", value_name = "SOURCE")]
    pub source_dir: Option<PathBuf>,
    /// Print the matching rules as JSON (with their evidence) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs `autoscope explain`.
pub fn run(args: Args) -> Result<ExitCode> {
    let policy = policy_schema::from_path(&args.policy)?;
    let matchers = CompiledMatchers::compile(&policy).map_err(|e| {
        super::input_error(format!(
            "{}: rule {}: bad template {:?}",
            args.policy.display(),
            e.rule,
            e.template
        ))
    })?;
    let services: Vec<String> = match &args.service {
        Some(service) => vec![service.clone()],
        None => {
            let mut all: BTreeSet<String> = policy
                .rules
                .iter()
                .filter_map(|r| r.service.clone())
                .collect();
            all.insert(String::new());
            all.into_iter().collect()
        }
    };
    let source_root = args
        .source_dir
        .clone()
        .or_else(|| source_root_of(&policy, &args.policy));
    let mut found = BTreeSet::new();
    let mut out = String::new();
    let mut matches = Vec::new();
    let attributes: Vec<(&str, AttributeValue<'_>)> = args
        .attributes
        .iter()
        .map(|(key, value)| (key.as_str(), AttributeValue::Str(value)))
        .collect();
    for service in &services {
        let start = SpanStart {
            trace_id: &[],
            trace_state: "",
            service,
            name: &args.span_name,
            kind: args.kind,
            attributes: &attributes,
        };
        if let Some(hit) = matchers.find_for(&start)
            && found.insert(hit.rule)
        {
            let rule = &policy.rules[hit.rule as usize];
            let matcher = &rule.matchers[hit.matcher as usize];
            describe(&mut out, rule, matcher, source_root.as_deref());
            matches.push(serde_json::json!({
                "rule": rule.id,
                "service": rule.service,
                "matched_by": matcher,
                "kind": rule.kind,
                "attributes": rule.attributes,
                "action": rule.action,
                "evidence": rule.evidence,
            }));
        }
    }
    if args.json {
        let value = serde_json::json!({
            "span_name": args.span_name,
            "service": args.service,
            "matches": matches,
            "default_action": policy.default_action,
        });
        super::traces::print_json_report(&value, false)?;
        return Ok(ExitCode::SUCCESS);
    }
    if found.is_empty() {
        let scope = args
            .service
            .as_deref()
            .map(|s| format!(" in service {s}"))
            .unwrap_or_default();
        console::out(&format!(
            "{:?}{scope}: no rule matches; the default action applies: {}\n",
            args.span_name,
            action_text(&policy.default_action)
        ))?;
    } else {
        console::out(&out)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_kind(text: &str) -> Result<policy_schema::SpanKind, String> {
    serde_json::from_value(serde_json::Value::String(text.to_string()))
        .map_err(|_| "expected one of server, client, producer, consumer, internal".to_string())
}

fn parse_attribute(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .filter(|(key, _)| !key.is_empty())
        .ok_or_else(|| format!("expected KEY=VALUE, got {text:?}"))
}

fn action_text(action: &Action) -> String {
    match action {
        Action::Keep => "keep".into(),
        Action::Sample { rate } => format!("sample at rate {rate}"),
    }
}

fn matcher_text(matcher: &Matcher) -> String {
    match matcher {
        Matcher::Exact(t) => format!("exact {t:?}"),
        Matcher::Template(t) => format!("template {t:?}"),
        Matcher::Prefix(t) => format!("prefix {t:?}"),
        Matcher::Glob(t) => format!("glob {t:?}"),
    }
}

/// The source root recorded in the policy, resolved against the policy file's folder
/// (where `analyze` records it from) or else the current folder, when it exists.
fn source_root_of(policy: &Policy, policy_path: &Path) -> Option<PathBuf> {
    let recorded = PathBuf::from(policy.generator.source_root.as_ref()?);
    let beside = super::analyze::policy_folder(policy_path).join(&recorded);
    [beside, recorded].into_iter().find(|p| p.is_dir())
}

fn describe(out: &mut String, rule: &Rule, matcher: &Matcher, source_root: Option<&Path>) {
    let _ = writeln!(out, "rule {}", rule.id);
    if let Some(service) = &rule.service {
        let _ = writeln!(out, "  service: {service}");
    }
    let _ = writeln!(out, "  matched by: {}", matcher_text(matcher));
    if rule.has_conditions() {
        let _ = writeln!(out, "  conditions: {}", rule.conditions_text());
    }
    let _ = writeln!(out, "  action: {}", action_text(&rule.action));
    let Some(evidence) = &rule.evidence else {
        let _ = writeln!(out, "  (no evidence recorded)");
        return;
    };
    let _ = writeln!(out, "  score: {}", evidence.score);
    if let Some(function) = &evidence.function {
        let location = match (&evidence.file, evidence.line) {
            (Some(file), Some(line)) => format!(" at {file}:{line}"),
            (Some(file), None) => format!(" in {file}"),
            _ => String::new(),
        };
        let _ = writeln!(out, "  span site: {function}{location}");
        if let (Some(root), Some(file), Some(line)) = (source_root, &evidence.file, evidence.line) {
            show_source(out, &root.join(file), line);
        }
    }
    for reason in &evidence.reasons {
        let location = match (&reason.file, reason.line) {
            (Some(file), Some(line)) => format!(" ({file}:{line})"),
            (Some(file), None) => format!(" ({file})"),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  {:+} {}: {}{location}",
            reason.points, reason.kind, reason.detail
        );
        if let (Some(root), Some(file), Some(line)) = (source_root, &reason.file, reason.line) {
            show_source(out, &root.join(file), line);
        }
    }
}

fn show_source(out: &mut String, path: &Path, line: u32) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return;
    };
    let first = line.saturating_sub(CONTEXT_LINES).max(1);
    for (number, content) in text.lines().enumerate().map(|(i, l)| (i as u32 + 1, l)) {
        if number >= first && number <= line + CONTEXT_LINES {
            let marker = if number == line { '>' } else { ' ' };
            let _ = writeln!(out, "      {marker}{number:>5} | {content}");
        }
    }
}
