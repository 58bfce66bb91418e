//! `autoscope coverage`: how well a policy names the spans real traces contain — for
//! each (service, span name) seen, its count and the rule that matches it, and in total
//! the share of span occurrences and of distinct names a specific rule matches.

use super::console;
use super::traces::{check_inputs, load_sampler, open_traces, progress};
use anyhow::Result;
use autoscope_replay::apply::{ModelAttributes, view};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `autoscope coverage`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file.
    #[arg(short = 'p', long, value_name = "FILE")]
    policy: PathBuf,
    /// Trace files (any format `autoscope sample` reads).
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Rows to print (most frequent first); 0 prints all.
    #[arg(long, default_value_t = 40)]
    limit: usize,
    /// Print only the names no rule matches.
    #[arg(long)]
    unmatched: bool,
}

#[derive(Debug, Serialize)]
struct NameRow {
    service: String,
    name: String,
    count: u64,
    rule: Option<String>,
    /// The matching rule's kind and attribute conditions, when it has some.
    #[serde(skip_serializing_if = "Option::is_none")]
    conditions: Option<String>,
    /// The matching rule's instrumentation profile(s).
    profile: Option<String>,
    /// Whether the matching rule is specific: derived from a span site in the code
    /// (its evidence names a source file), not a catch-all or hand-written rule.
    specific: bool,
}

#[derive(Debug, Serialize)]
struct Summary {
    spans: u64,
    spans_matched: u64,
    span_share: f64,
    names: u64,
    names_matched: u64,
    name_share: f64,
    spans_specific: u64,
    span_specific_share: f64,
    names_specific: u64,
    name_specific_share: f64,
    /// Span occurrences matched per profile (a rule naming several profiles counts for
    /// each).
    by_profile: std::collections::BTreeMap<String, u64>,
}

/// Runs `autoscope coverage`.
pub fn run(args: Args) -> Result<ExitCode> {
    check_inputs(&args.inputs)?;
    let (policy, sampler) = load_sampler(&args.policy)?;
    // Per (service, name, deciding rule): with kind and attribute conditions, spans of
    // one name can be decided by different rules.
    let mut counts: HashMap<(String, String, Option<u32>), u64> = HashMap::new();
    let bar = progress(args.inputs.len());
    for input in &args.inputs {
        bar.set_message(input.display().to_string());
        // Span by span: a block of the input at a time, no trace gathered.
        let mut reader = open_traces(input)?;
        while let Some(doc) = reader.next_block()? {
            let attributes = ModelAttributes::of(&doc.spans);
            for (span, attributes) in doc.spans.iter().zip(&attributes) {
                let rule = sampler
                    .rule_for_span(&view(span, attributes).start())
                    .map(|hit| hit.rule);
                let key = (span.service_name().to_string(), span.name.clone(), rule);
                *counts.entry(key).or_default() += 1;
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let mut rows: Vec<NameRow> = counts
        .into_iter()
        .map(|((service, name, rule), count)| {
            let rule = rule.and_then(|index| policy.rules.get(index as usize));
            NameRow {
                service,
                name,
                count,
                rule: rule.map(|rule| rule.id.clone()),
                conditions: rule
                    .filter(|rule| rule.has_conditions())
                    .map(|rule| rule.conditions_text()),
                profile: rule.and_then(|rule| rule.profile.clone()),
                specific: rule
                    .is_some_and(|rule| rule.evidence.as_ref().is_some_and(|e| e.file.is_some())),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.service.cmp(&b.service))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.rule.cmp(&b.rule))
    });
    let spans: u64 = rows.iter().map(|r| r.count).sum();
    let spans_matched: u64 = rows
        .iter()
        .filter(|r| r.rule.is_some())
        .map(|r| r.count)
        .sum();
    let names: std::collections::HashSet<(&str, &str)> = rows
        .iter()
        .map(|r| (r.service.as_str(), r.name.as_str()))
        .collect();
    let names_matched = rows
        .iter()
        .filter(|r| r.rule.is_some())
        .map(|r| (r.service.as_str(), r.name.as_str()))
        .collect::<std::collections::HashSet<_>>()
        .len() as u64;
    let spans_specific: u64 = rows.iter().filter(|r| r.specific).map(|r| r.count).sum();
    let names_specific = rows
        .iter()
        .filter(|r| r.specific)
        .map(|r| (r.service.as_str(), r.name.as_str()))
        .collect::<std::collections::HashSet<_>>()
        .len() as u64;
    let mut by_profile = std::collections::BTreeMap::new();
    for row in &rows {
        for profile in row.profile.iter().flat_map(|p| p.split(',')) {
            *by_profile.entry(profile.to_string()).or_insert(0) += row.count;
        }
    }
    let share = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let summary = Summary {
        spans,
        spans_matched,
        span_share: share(spans_matched, spans),
        names: names.len() as u64,
        names_matched,
        name_share: share(names_matched, names.len() as u64),
        spans_specific,
        span_specific_share: share(spans_specific, spans),
        names_specific,
        name_specific_share: share(names_specific, names.len() as u64),
        by_profile,
    };
    let shown: Vec<&NameRow> = rows
        .iter()
        .filter(|r| !args.unmatched || r.rule.is_none())
        .take(if args.limit == 0 {
            usize::MAX
        } else {
            args.limit
        })
        .collect();
    if args.json {
        let value = serde_json::json!({ "summary": summary, "names": shown });
        super::traces::print_json_report(&value, false)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{:>9}  {:<28} {:<60} {:<24} rule",
        "count", "service", "span name", "profile"
    );
    for row in &shown {
        let _ = writeln!(
            text,
            "{:>9}  {:<28} {:<60} {:<24} {}",
            row.count,
            row.service,
            row.name,
            row.profile.as_deref().unwrap_or("-"),
            match (&row.rule, &row.conditions) {
                (Some(rule), Some(conditions)) => format!("{rule} [{conditions}]"),
                (Some(rule), None) => rule.clone(),
                (None, _) => "(default)".into(),
            }
        );
    }
    if shown.len() < rows.len() {
        let _ = writeln!(
            text,
            "   ... {} more (--limit 0 shows all)",
            rows.len() - shown.len()
        );
    }
    let _ = writeln!(
        text,
        "\nmatched by a rule: {} of {} span occurrences ({:.1}%), {} of {} distinct (service, name) pairs ({:.1}%)",
        summary.spans_matched,
        summary.spans,
        100.0 * summary.span_share,
        summary.names_matched,
        summary.names,
        100.0 * summary.name_share,
    );
    let _ = writeln!(
        text,
        "matched by a specific rule (derived from a span site): {} of {} span occurrences ({:.1}%), {} of {} distinct pairs ({:.1}%)",
        summary.spans_specific,
        summary.spans,
        100.0 * summary.span_specific_share,
        summary.names_specific,
        summary.names,
        100.0 * summary.name_specific_share,
    );
    for (profile, count) in &summary.by_profile {
        let _ = writeln!(text, "  profile {profile}: {count} span occurrences");
    }
    console::out(&text)?;
    Ok(ExitCode::SUCCESS)
}
