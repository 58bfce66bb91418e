//! Injects latency faults into a SkyWalking span CSV, and measures how many of them a
//! policy's latency override keeps.
//!
//! Faults that raise no error flag (a slow dependency, CPU contention) are only visible
//! in durations. This program makes such faults on healthy traffic, deterministically:
//!
//! ```text
//! inject_delays INPUT.csv OUTPUT.csv FAULTS.txt [--share 0.02] [--factor 5] [--seed 1] [--warm-up 0]
//! inject_delays --measure POLICY.json DELAYED.csv FAULTS.txt
//! ```
//!
//! Injection:
//! - a trace is delayed when a hash of `seed` and its trace id falls below `share`
//!   (traces among the first `warm-up` ones, in order of first appearance, never are:
//!   that leaves the latency windows a healthy start);
//! - in a delayed trace one span that is not a root is chosen, preferring a leaf `Exit`
//!   span (a database call, an HTTP call out: what a slow dependency looks like), then
//!   any leaf, then any non-root span; the choice among equals hashes the seed and the
//!   trace id again, over the candidates sorted by span id, so row order does not matter;
//! - its duration `d` (milliseconds) becomes `round(max(d, 1) * factor)`: the format
//!   records whole milliseconds, so a 0 ms span took up to 1 ms, and scaling 0 would
//!   inject nothing;
//! - its `EndTime` and that of every ancestor grows by the same delta, so parents still
//!   contain their children. Later siblings are not shifted (they may now overlap the
//!   delayed span; the sampler does not look at overlaps). `IsError` never changes.
//!
//! The output is the input byte for byte except for those `EndTime` fields. FAULTS.txt
//! lists `trace_id span_id` of the delayed spans, one per line, sorted.
//!
//! Measurement runs the policy over the delayed file exactly as `autoscope sample` does
//! (`autoscope_replay::apply`) and prints the delayed spans kept (fault coverage), the delayed
//! traces left visible, and the spans the latency override kept that are neither delayed
//! nor an ancestor of a delayed span (false positives).

use anyhow::{Context, Result, bail};
use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// How to inject.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InjectConfig {
    /// Share of traces delayed, in [0, 1].
    pub share: f64,
    /// Duration multiplier of the delayed span (at least 1).
    pub factor: f64,
    /// Seed of the trace and span choice.
    pub seed: u64,
    /// The first this many traces are never delayed.
    pub warm_up: usize,
}

impl Default for InjectConfig {
    fn default() -> Self {
        Self {
            share: 0.02,
            factor: 5.0,
            seed: 1,
            warm_up: 0,
        }
    }
}

/// A delayed span.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fault {
    /// Its trace id, as written in the file.
    pub trace_id: String,
    /// Its span id, as written in the file.
    pub span_id: String,
}

/// The result of an injection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injected {
    /// The rewritten CSV.
    pub output: Vec<u8>,
    /// The delayed spans, sorted.
    pub faults: Vec<Fault>,
    /// Traces in the input.
    pub traces: usize,
    /// Rows whose `EndTime` changed (delayed spans and their ancestors).
    pub changed_rows: usize,
}

impl Injected {
    /// FAULTS.txt: `trace_id span_id` per line, sorted.
    pub fn faults_text(&self) -> String {
        faults_text(&self.faults)
    }
}

/// `trace_id span_id` per line.
pub fn faults_text(faults: &[Fault]) -> String {
    faults
        .iter()
        .map(|f| format!("{} {}\n", f.trace_id, f.span_id))
        .collect()
}

/// Reads FAULTS.txt (blank lines ignored); `origin` names the file in errors.
pub fn parse_faults(text: &str, origin: &str) -> Result<Vec<Fault>> {
    let mut faults = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some(trace_id), Some(span_id), None) => faults.push(Fault {
                trace_id: trace_id.to_string(),
                span_id: span_id.to_string(),
            }),
            _ => bail!(
                "{origin}:{}: expected `trace_id span_id`, found {line:?}",
                number + 1
            ),
        }
    }
    faults.sort();
    Ok(faults)
}

/// One CSV record: its content (without line end) and its fields, as ranges of the input.
#[derive(Debug)]
struct Record {
    /// 1-based line where it starts.
    line: usize,
    fields: Vec<Range<usize>>,
}

/// Splits RFC 4180 CSV into records (quoted fields may hold commas, `""` and newlines;
/// LF or CRLF line ends; blank lines skipped). Field ranges include their quotes.
fn records(bytes: &[u8], origin: &str) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut line = 1;
    while at < bytes.len() {
        let record_line = line;
        let mut fields = Vec::new();
        let mut field_start = at;
        let mut in_quotes = false;
        let mut end = bytes.len();
        let mut next = bytes.len();
        let mut i = at;
        while i < bytes.len() {
            let byte = bytes[i];
            if byte == b'\n' {
                line += 1;
            }
            if in_quotes {
                if byte == b'"' {
                    if bytes.get(i + 1) == Some(&b'"') {
                        i += 1;
                    } else {
                        in_quotes = false;
                    }
                }
            } else if byte == b'"' && i == field_start {
                in_quotes = true;
            } else if byte == b',' {
                fields.push(field_start..i);
                field_start = i + 1;
            } else if byte == b'\n' {
                end = if i > at && bytes[i - 1] == b'\r' {
                    i - 1
                } else {
                    i
                };
                next = i + 1;
                break;
            }
            i += 1;
        }
        if in_quotes {
            bail!("{origin}:{record_line}: a quoted field is never closed");
        }
        if end == bytes.len() && end > at && bytes[end - 1] == b'\r' {
            end -= 1;
        }
        if end > at || !fields.is_empty() {
            fields.push(field_start..end);
            out.push(Record {
                line: record_line,
                fields,
            });
        }
        at = next;
    }
    Ok(out)
}

/// A field's text without its quotes (ids and times are never quoted in practice; a
/// quoted one is accepted, with `""` left as is since ids hold no quotes).
fn unquoted(bytes: &[u8], range: &Range<usize>) -> Range<usize> {
    let raw = &bytes[range.clone()];
    if raw.len() >= 2 && raw[0] == b'"' && raw[raw.len() - 1] == b'"' {
        range.start + 1..range.end - 1
    } else {
        range.clone()
    }
}

/// FNV-1a over the parts, then a SplitMix64 finalizer: stable across platforms and
/// versions (unlike the std and ahash hashers), and unrelated to the sampler's own
/// trace-id hash, so which traces are delayed does not correlate with which are sampled.
fn stable_hash(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &byte in *part {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        // A separator, so ("ab", "c") and ("a", "bc") differ.
        hash ^= 0xff;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^ (hash >> 31)
}

/// A hash as a number in [0, 1).
fn unit(hash: u64) -> f64 {
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

struct Columns {
    start: usize,
    end: usize,
    span_type: usize,
    span_id: usize,
    trace_id: usize,
    parent: usize,
}

fn columns(bytes: &[u8], header: &Record, origin: &str) -> Result<Columns> {
    let names: Vec<&[u8]> = header
        .fields
        .iter()
        .map(|r| {
            let name = &bytes[unquoted(bytes, r)];
            name.strip_prefix(b"\xef\xbb\xbf").unwrap_or(name)
        })
        .collect();
    let find = |wanted: &str| {
        names
            .iter()
            .position(|n| *n == wanted.as_bytes())
            .with_context(|| {
                format!(
                    "{origin}:{}: no column {wanted:?}: not a SkyWalking span CSV",
                    header.line
                )
            })
    };
    Ok(Columns {
        start: find("StartTime")?,
        end: find("EndTime")?,
        span_type: find("SpanType")?,
        span_id: find("SpanId")?,
        trace_id: find("TraceId")?,
        parent: find("ParentSpan")?,
    })
}

fn millis(bytes: &[u8], record: &Record, column: usize, name: &str, origin: &str) -> Result<u64> {
    let text = &bytes[unquoted(bytes, &record.fields[column])];
    std::str::from_utf8(text)
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .with_context(|| {
            format!(
                "{origin}:{}: {name} {:?} is not a whole number of milliseconds",
                record.line,
                String::from_utf8_lossy(text)
            )
        })
}

/// Delays spans of `input` (a SkyWalking CSV; `origin` names it in errors).
pub fn inject(input: &[u8], config: &InjectConfig, origin: &str) -> Result<Injected> {
    if !(0.0..=1.0).contains(&config.share) {
        bail!("--share {} is outside [0, 1]", config.share);
    }
    if !(config.factor.is_finite() && config.factor >= 1.0) {
        bail!("--factor {} must be a number of at least 1", config.factor);
    }
    let all = records(input, origin)?;
    let Some((header, rows)) = all.split_first() else {
        bail!("{origin}: empty file: not a SkyWalking span CSV");
    };
    let cols = columns(input, header, origin)?;
    let text = |row: &Record, column: usize| &input[unquoted(input, &row.fields[column])];
    let mut starts = Vec::with_capacity(rows.len());
    let mut ends = Vec::with_capacity(rows.len());
    for row in rows {
        if row.fields.len() != header.fields.len() {
            bail!(
                "{origin}:{}: {} fields where the header has {}",
                row.line,
                row.fields.len(),
                header.fields.len()
            );
        }
        starts.push(millis(input, row, cols.start, "StartTime", origin)?);
        ends.push(millis(input, row, cols.end, "EndTime", origin)?);
    }
    // Traces in order of first appearance, as `autoscope_replay::apply` groups them.
    let mut trace_slot: HashMap<&[u8], usize> = HashMap::new();
    let mut traces: Vec<Vec<usize>> = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let next = traces.len();
        let slot = *trace_slot.entry(text(row, cols.trace_id)).or_insert(next);
        if slot == next {
            traces.push(Vec::new());
        }
        traces[slot].push(index);
    }
    let seed = config.seed.to_le_bytes();
    let mut new_ends = ends.clone();
    let mut faults = Vec::new();
    for trace in traces.iter().skip(config.warm_up) {
        let trace_id = text(&rows[trace[0]], cols.trace_id);
        if unit(stable_hash(&[b"trace", &seed, trace_id])) >= config.share {
            continue;
        }
        let is_root = |p: &[u8]| p.is_empty() || p == b"-1";
        let mut by_span_id: HashMap<&[u8], usize> = HashMap::new();
        let mut parents: BTreeSet<&[u8]> = BTreeSet::new();
        for &i in trace {
            by_span_id.entry(text(&rows[i], cols.span_id)).or_insert(i);
            parents.insert(text(&rows[i], cols.parent));
        }
        // Preference tiers: leaf Exit, leaf, any non-root.
        let tier = |i: usize| {
            let leaf = !parents.contains(text(&rows[i], cols.span_id));
            let exit = text(&rows[i], cols.span_type) == b"Exit";
            match (leaf, exit) {
                (true, true) => 0,
                (true, false) => 1,
                (false, _) => 2,
            }
        };
        let mut candidates: Vec<(u8, &[u8], usize)> = trace
            .iter()
            .filter(|&&i| !is_root(text(&rows[i], cols.parent)))
            .map(|&i| (tier(i), text(&rows[i], cols.span_id), i))
            .collect();
        candidates.sort();
        let Some(&(best, _, _)) = candidates.first() else {
            continue; // A trace of roots only: nothing to delay.
        };
        candidates.retain(|c| c.0 == best);
        let pick = stable_hash(&[b"span", &seed, trace_id]) % candidates.len() as u64;
        let (_, span_id, chosen) = candidates[pick as usize];
        let duration = ends[chosen].saturating_sub(starts[chosen]);
        let stretched = (duration.max(1) as f64 * config.factor).round() as u64;
        let delta = stretched.saturating_sub(duration);
        // The span and its ancestors grow by `delta`; `seen` guards parent cycles.
        let mut seen = BTreeSet::new();
        let mut at = Some(chosen);
        while let Some(i) = at {
            if !seen.insert(i) {
                break;
            }
            new_ends[i] += delta;
            let parent = text(&rows[i], cols.parent);
            at = if is_root(parent) {
                None
            } else {
                by_span_id.get(parent).copied()
            };
        }
        faults.push(Fault {
            trace_id: String::from_utf8_lossy(trace_id).into_owned(),
            span_id: String::from_utf8_lossy(span_id).into_owned(),
        });
    }
    faults.sort();
    // Copy the input, rewriting only the changed EndTime fields (in file order).
    let mut output = Vec::with_capacity(input.len() + 64);
    let mut copied = 0;
    let mut changed_rows = 0;
    for (i, row) in rows.iter().enumerate() {
        if new_ends[i] == ends[i] {
            continue;
        }
        changed_rows += 1;
        let field = unquoted(input, &row.fields[cols.end]);
        output.extend_from_slice(&input[copied..field.start]);
        output.extend_from_slice(new_ends[i].to_string().as_bytes());
        copied = field.end;
    }
    output.extend_from_slice(&input[copied..]);
    Ok(Injected {
        output,
        faults,
        traces: traces.len(),
        changed_rows,
    })
}

/// What a policy kept of the delayed spans of a document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Spans in the document.
    pub spans: usize,
    /// Spans kept, for any reason.
    pub kept: usize,
    /// Listed delayed spans found in the document.
    pub delayed: usize,
    /// Delayed spans kept (for any reason).
    pub delayed_kept: usize,
    /// Delayed spans kept by the latency override.
    pub delayed_by_latency: usize,
    /// Traces holding a delayed span.
    pub delayed_traces: usize,
    /// Of those, traces with at least one kept span.
    pub delayed_traces_visible: usize,
    /// Ancestors of delayed spans (longer too) kept by the latency override.
    pub ancestors_by_latency: usize,
    /// Every span the latency override kept.
    pub latency_kept: usize,
    /// Spans the latency override kept that are neither delayed nor an ancestor of a
    /// delayed span: false positives.
    pub healthy_by_latency: usize,
    /// Of the delayed spans, the document indices of those not kept.
    pub missed: Vec<usize>,
}

/// Per span of a sampled document: is it delayed, an ancestor of a delayed span, or
/// neither. `faults` must be sorted.
pub fn fault_roles(
    doc: &trace_formats::TraceDocument,
    groups: &autoscope_replay::apply::TraceGroups,
    faults: &[Fault],
) -> Vec<Role> {
    let mut roles = vec![Role::Healthy; doc.spans.len()];
    for trace in &groups.traces {
        let mut by_id: HashMap<&[u8], usize> = HashMap::new();
        for &i in trace {
            by_id.entry(doc.spans[i].span_id.as_slice()).or_insert(i);
        }
        for &i in trace {
            let span = &doc.spans[i];
            let key = Fault {
                trace_id: String::from_utf8_lossy(&span.trace_id).into_owned(),
                span_id: String::from_utf8_lossy(&span.span_id).into_owned(),
            };
            if faults.binary_search(&key).is_err() {
                continue;
            }
            roles[i] = Role::Delayed;
            let mut seen = BTreeSet::from([i]);
            let mut at = by_id.get(span.parent_span_id.as_slice()).copied();
            while let Some(p) = at {
                if !seen.insert(p) {
                    break;
                }
                if roles[p] == Role::Healthy {
                    roles[p] = Role::Ancestor;
                }
                at = by_id.get(doc.spans[p].parent_span_id.as_slice()).copied();
            }
        }
    }
    roles
}

/// A span's part in the injected faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Untouched and not containing a delayed span.
    Healthy,
    /// A delayed span.
    Delayed,
    /// An ancestor of a delayed span (its end moved).
    Ancestor,
}

/// Counts what `sampled` kept of the delayed spans.
pub fn coverage(
    doc: &trace_formats::TraceDocument,
    groups: &autoscope_replay::apply::TraceGroups,
    sampled: &autoscope_replay::apply::Sampled,
    faults: &[Fault],
) -> Coverage {
    use runtime_sampler::OverrideKind;
    let roles = fault_roles(doc, groups, faults);
    let mut c = Coverage {
        spans: doc.spans.len(),
        kept: sampled.kept.len(),
        ..Coverage::default()
    };
    for trace in &groups.traces {
        let delayed = trace.iter().any(|&i| roles[i] == Role::Delayed);
        c.delayed_traces += usize::from(delayed);
        c.delayed_traces_visible +=
            usize::from(delayed && trace.iter().any(|&i| sampled.is_kept(i)));
    }
    for (i, role) in roles.iter().enumerate() {
        let by_latency = sampled.outcomes[i]
            .is_some_and(|o| o.decision.override_fired == Some(OverrideKind::Latency));
        c.latency_kept += usize::from(by_latency);
        match role {
            Role::Delayed => {
                c.delayed += 1;
                c.delayed_by_latency += usize::from(by_latency);
                if sampled.is_kept(i) {
                    c.delayed_kept += 1;
                } else {
                    c.missed.push(i);
                }
            }
            Role::Ancestor => c.ancestors_by_latency += usize::from(by_latency),
            Role::Healthy => c.healthy_by_latency += usize::from(by_latency),
        }
    }
    c
}

/// Samples `doc` with `policy` as `autoscope sample` does.
pub fn sample(
    policy: &policy_schema::Policy,
    doc: &trace_formats::TraceDocument,
) -> Result<(
    autoscope_replay::apply::TraceGroups,
    autoscope_replay::apply::Sampled,
)> {
    let mut sampler = runtime_sampler::Sampler::new(policy).context("cannot compile the policy")?;
    let groups = autoscope_replay::apply::TraceGroups::of(&doc.spans);
    let sampled = autoscope_replay::apply::sample_document(&mut sampler, doc, &groups);
    Ok((groups, sampled))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("{}: cannot write", path.display()))
}

fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.1}%", 100.0 * part as f64 / whole as f64)
    }
}

fn measure(policy: &Path, delayed: &Path, faults: &Path) -> Result<()> {
    let policy = policy_schema::from_path(policy)?;
    let doc = trace_formats::read_path(delayed)?;
    let fault_text = String::from_utf8(read(faults)?)
        .with_context(|| format!("{}: not UTF-8", faults.display()))?;
    let faults = parse_faults(&fault_text, &faults.display().to_string())?;
    let (groups, sampled) = sample(&policy, &doc)?;
    let c = coverage(&doc, &groups, &sampled, &faults);
    // Not `print!`: a closed pipe (`| head`) is an error to report, not a panic.
    std::io::Write::write_all(
        &mut std::io::stdout().lock(),
        coverage_text(&doc, &c).as_bytes(),
    )
    .context("cannot write to standard output")
}

/// The measurement as text, misses grouped by (service, name) to show why they were
/// missed.
pub fn coverage_text(doc: &trace_formats::TraceDocument, c: &Coverage) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let healthy = c.spans.saturating_sub(c.delayed + c.ancestors_by_latency);
    let _ = writeln!(
        out,
        "spans {} kept {} ({})",
        c.spans,
        c.kept,
        percent(c.kept, c.spans)
    );
    let _ = writeln!(
        out,
        "delayed spans {} kept {} ({}), by the latency override {}",
        c.delayed,
        c.delayed_kept,
        percent(c.delayed_kept, c.delayed),
        c.delayed_by_latency
    );
    let _ = writeln!(
        out,
        "delayed traces {} visible {} ({})",
        c.delayed_traces,
        c.delayed_traces_visible,
        percent(c.delayed_traces_visible, c.delayed_traces)
    );
    let _ = writeln!(
        out,
        "latency override kept {}: delayed {}, their ancestors {}, healthy (false positives) {} ({} of healthy spans)",
        c.latency_kept,
        c.delayed_by_latency,
        c.ancestors_by_latency,
        c.healthy_by_latency,
        percent(c.healthy_by_latency, healthy)
    );
    let mut missed: HashMap<(String, String), Vec<u64>> = HashMap::new();
    for &i in &c.missed {
        let span = &doc.spans[i];
        missed
            .entry((span.service_name().to_string(), span.name.clone()))
            .or_default()
            .push(span.duration_nanos() / 1_000_000);
    }
    let mut missed: Vec<_> = missed.into_iter().collect();
    missed.sort();
    for ((service, name), mut durations) in missed {
        durations.sort_unstable();
        let _ = writeln!(
            out,
            "  missed {:>4} {service} {name}: delayed durations (ms) min {} median {} max {}",
            durations.len(),
            durations[0],
            durations[durations.len() / 2],
            durations[durations.len() - 1]
        );
    }
    out
}

fn usage() -> String {
    "usage: inject_delays INPUT.csv OUTPUT.csv FAULTS.txt [--share 0.02] [--factor 5] [--seed 1] [--warm-up 0]\n       inject_delays --measure POLICY.json DELAYED.csv FAULTS.txt".into()
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--measure") {
        let [_, policy, delayed, faults] = args.as_slice() else {
            bail!("{}", usage());
        };
        return measure(policy.as_ref(), delayed.as_ref(), faults.as_ref());
    }
    let mut config = InjectConfig::default();
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .with_context(|| format!("{name} needs a value\n{}", usage()))
        };
        match arg.as_str() {
            "--share" => config.share = value("--share")?.parse().context("--share")?,
            "--factor" => config.factor = value("--factor")?.parse().context("--factor")?,
            "--seed" => config.seed = value("--seed")?.parse().context("--seed")?,
            "--warm-up" => config.warm_up = value("--warm-up")?.parse().context("--warm-up")?,
            flag if flag.starts_with("--") => bail!("unknown option {flag}\n{}", usage()),
            path => paths.push(path.into()),
        }
    }
    let [input, output, faults] = paths.as_slice() else {
        bail!("{}", usage());
    };
    let injected = inject(&read(input)?, &config, &input.display().to_string())?;
    write(output, &injected.output)?;
    write(faults, injected.faults_text().as_bytes())?;
    eprintln!(
        "{} traces, {} delayed, {} rows changed",
        injected.traces,
        injected.faults.len(),
        injected.changed_rows
    );
    Ok(())
}
