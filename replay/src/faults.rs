//! Latency faults injected into span CSV files, and the faults file that lists them.
//!
//! Faults that raise no error flag (a slow dependency, CPU contention) show only in
//! durations. [`inject`] makes such faults on healthy traffic, deterministically, in a
//! SkyWalking span CSV (`StartTime,EndTime,…` in milliseconds) or the research CSV
//! (`TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration`,
//! nanoseconds), told apart by their header. Two kinds:
//!
//! - **delay** ([`FaultKind::Delay`]): in each chosen trace one span that is not a root
//!   is slowed, preferring a leaf SkyWalking `Exit` span (a database call, an HTTP call
//!   out: what a slow dependency looks like), then any leaf, then any non-root span; the
//!   choice among equals hashes the seed and the trace id, over the candidates sorted by
//!   span id, so row order does not matter. Its duration `d` becomes
//!   `round(max(d, 1 unit) × factor)` (the unit is the file's resolution: SkyWalking
//!   records whole milliseconds, so a 0 ms span took up to 1 ms and scaling 0 would
//!   inject nothing).
//! - **contention** ([`FaultKind::Contention`]): in each chosen trace every span of one
//!   service is slowed on its self time (its duration minus the time its children
//!   cover): it grows by `round(max(self, 1 unit) × (factor − 1))`, what a CPU-starved
//!   service spends more on its own work while the calls it makes take as long as before.
//!
//! Either way each slowed span's `EndTime` and that of every ancestor that waited for it
//! grows by the span's growth, so parents still contain their children; a parent with
//! several slowed descendants grows by their sum (its children ran one after another, as
//! the synchronous calls of these systems do). A parent waited for a child that started
//! before the parent ended; one that started later (a message consumer after its
//! producer returned) is asynchronous, and the slow-down stops there. Start times and later siblings are not
//! shifted (they may now overlap a slowed span; the sampler does not look at overlaps).
//! A research CSV's `Duration` column, where present, grows by the same amount in its
//! own unit (told from the file: the one of ns, µs, ms nearest to the ratio of the
//! summed `EndTime − StartTime` to the summed `Duration`). Nothing else changes: the
//! output is the input byte for byte except for those fields.
//!
//! A trace is chosen when a hash of the seed and its trace id falls below `share`, it
//! is not among the first `warm_up` traces (in order of first appearance: that leaves
//! the sampler's latency windows a healthy start) and, with a window, its earliest start
//! lies in the window; for contention it must also hold a span of the service.
//!
//! The faults file ([`faults_tsv`], [`parse_faults`]) lists every slowed span as
//! `trace_id<TAB>span_id<TAB>service`, sorted, under a header line and `#` comments that
//! record how it was made.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::ops::Range;

/// A fault injection or faults-file problem: the message names the file (and line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FaultError(pub String);

fn fail<T>(message: String) -> Result<T, FaultError> {
    Err(FaultError(message))
}

/// What is slowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// One span per chosen trace (a slow dependency).
    Delay,
    /// Every span of this service per chosen trace, on its self time (CPU contention).
    Contention {
        /// The service, as the file names it (SkyWalking `Service`; research CSV: the
        /// pod name without its Kubernetes suffix).
        service: String,
    },
}

impl FaultKind {
    /// `delay` or `contention`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Delay => "delay",
            Self::Contention { .. } => "contention",
        }
    }
}

/// Traces whose earliest start lies in `[from, to)` seconds after the file's earliest
/// span start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeWindow {
    /// Seconds after the file's first start, inclusive.
    pub from_seconds: f64,
    /// Seconds after the file's first start, exclusive.
    pub to_seconds: f64,
}

/// How to inject.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultConfig {
    /// What is slowed.
    pub kind: FaultKind,
    /// Share of traces chosen, in [0, 1].
    pub share: f64,
    /// Slow-down factor (at least 1).
    pub factor: f64,
    /// Seed of the trace and span choice.
    pub seed: u64,
    /// The first this many traces are never chosen.
    pub warm_up: usize,
    /// Only traces starting in this window are chosen.
    pub window: Option<TimeWindow>,
}

impl FaultConfig {
    /// A delay fault with the defaults: 2% of traces, factor 5, seed 1, no warm-up.
    pub fn delay() -> Self {
        Self {
            kind: FaultKind::Delay,
            share: 0.02,
            factor: 5.0,
            seed: 1,
            warm_up: 0,
            window: None,
        }
    }

    /// The settings as the faults file's comment records them.
    pub fn describe(&self) -> String {
        let mut text = format!("kind={}", self.kind.name());
        if let FaultKind::Contention { service } = &self.kind {
            let _ = write!(text, " service={service}");
        }
        let _ = write!(
            text,
            " share={} factor={} seed={} warm_up={}",
            self.share, self.factor, self.seed, self.warm_up
        );
        if let Some(w) = self.window {
            let _ = write!(text, " window={}..{}", w.from_seconds, w.to_seconds);
        }
        text
    }
}

/// A slowed span.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fault {
    /// Its trace id, as written in the file.
    pub trace_id: String,
    /// Its span id, as written in the file.
    pub span_id: String,
    /// The service the fault is in (the slowed span's service).
    pub service: String,
}

/// The result of an injection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injection {
    /// The rewritten CSV.
    pub output: Vec<u8>,
    /// The slowed spans, sorted.
    pub faults: Vec<Fault>,
    /// Traces in the input.
    pub traces: usize,
    /// Traces with at least one slowed span.
    pub faulted_traces: usize,
    /// Rows whose `EndTime` changed (slowed spans and their ancestors).
    pub changed_rows: usize,
}

/// The faults file: a `#` comment per line of `comments`, the header, then
/// `trace_id<TAB>span_id<TAB>service` per fault, in the order given (sorted by
/// [`inject`]).
pub fn faults_tsv(faults: &[Fault], comments: &[String]) -> String {
    let mut out = String::new();
    for comment in comments {
        for line in comment.lines() {
            let _ = writeln!(out, "# {line}");
        }
    }
    out.push_str(FAULTS_HEADER);
    out.push('\n');
    for f in faults {
        let _ = writeln!(out, "{}\t{}\t{}", f.trace_id, f.span_id, f.service);
    }
    out
}

/// The faults file as `autoscope inject` writes it: a comment with the settings, then
/// [`faults_tsv`]. It names no input file, so the same settings give the same bytes.
pub fn faults_file_text(faults: &[Fault], config: &FaultConfig) -> String {
    faults_tsv(faults, &[format!("autoscope inject {}", config.describe())])
}

/// The faults file's header line.
pub const FAULTS_HEADER: &str = "trace_id\tspan_id\tservice";

/// Reads a faults file (blank lines and `#` comments ignored, the header line optional);
/// `origin` names the file in errors. The faults come back sorted.
pub fn parse_faults(text: &str, origin: &str) -> Result<Vec<Fault>, FaultError> {
    let mut faults = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() || line.starts_with('#') || line == FAULTS_HEADER {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            [trace_id, span_id, service]
                if !trace_id.is_empty() && !span_id.is_empty() && !service.is_empty() =>
            {
                faults.push(Fault {
                    trace_id: (*trace_id).to_string(),
                    span_id: (*span_id).to_string(),
                    service: (*service).to_string(),
                })
            }
            _ => {
                return fail(format!(
                    "{origin}:{}: expected `trace_id<TAB>span_id<TAB>service`, found {line:?}",
                    number + 1
                ));
            }
        }
    }
    faults.sort();
    faults.dedup();
    Ok(faults)
}

/// One CSV record: where it starts and its fields, as ranges of the input.
#[derive(Debug)]
struct Record {
    /// 1-based line where it starts.
    line: usize,
    fields: Vec<Range<usize>>,
}

/// Splits RFC 4180 CSV into records (quoted fields may hold commas, `""` and newlines;
/// LF or CRLF line ends; blank lines skipped). Field ranges include their quotes.
fn records(bytes: &[u8], origin: &str) -> Result<Vec<Record>, FaultError> {
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
            return fail(format!(
                "{origin}:{record_line}: a quoted field is never closed"
            ));
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
/// trace-id hash, so which traces are slowed does not correlate with which are sampled.
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

/// The two CSV layouts, told apart by their header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    SkyWalking,
    Research,
}

impl Layout {
    /// Nanoseconds per unit of the time columns.
    fn unit_nanos(self) -> u64 {
        match self {
            Self::SkyWalking => 1_000_000,
            Self::Research => 1,
        }
    }

    /// Whether a parent column's text marks a root.
    fn is_root(self, parent: &[u8]) -> bool {
        parent.is_empty()
            || match self {
                Self::SkyWalking => parent == b"-1",
                Self::Research => parent == b"root",
            }
    }
}

struct Columns {
    layout: Layout,
    start: usize,
    end: usize,
    span_id: usize,
    trace_id: usize,
    parent: usize,
    /// SkyWalking `Service`, research `PodName`.
    service: usize,
    /// SkyWalking `SpanType`.
    span_type: Option<usize>,
    /// Research `Duration`.
    duration: Option<usize>,
}

fn columns(bytes: &[u8], header: &Record, origin: &str) -> Result<Columns, FaultError> {
    let names: Vec<&[u8]> = header
        .fields
        .iter()
        .map(|r| {
            let name = &bytes[unquoted(bytes, r)];
            let name = name.strip_prefix(b"\xef\xbb\xbf").unwrap_or(name);
            name.trim_ascii()
        })
        .collect();
    let position = |wanted: &str| names.iter().position(|n| *n == wanted.as_bytes());
    let (layout, wanted): (Layout, [&str; 6]) = if position("TraceId").is_some() {
        (
            Layout::SkyWalking,
            [
                "StartTime",
                "EndTime",
                "SpanId",
                "TraceId",
                "ParentSpan",
                "Service",
            ],
        )
    } else if position("TraceID").is_some() {
        (
            Layout::Research,
            [
                "StartTimeUnixNano",
                "EndTimeUnixNano",
                "SpanID",
                "TraceID",
                "ParentID",
                "PodName",
            ],
        )
    } else {
        return fail(format!(
            "{origin}:{}: no column \"TraceId\" or \"TraceID\": not a SkyWalking span CSV nor a research span CSV",
            header.line
        ));
    };
    let mut found = [0usize; 6];
    for (slot, name) in found.iter_mut().zip(wanted) {
        *slot = position(name).ok_or_else(|| {
            FaultError(format!(
                "{origin}:{}: no column {name:?} in this {} CSV header",
                header.line,
                match layout {
                    Layout::SkyWalking => "SkyWalking",
                    Layout::Research => "research",
                }
            ))
        })?;
    }
    Ok(Columns {
        layout,
        start: found[0],
        end: found[1],
        span_id: found[2],
        trace_id: found[3],
        parent: found[4],
        service: found[5],
        span_type: (layout == Layout::SkyWalking)
            .then(|| position("SpanType"))
            .flatten(),
        duration: (layout == Layout::Research)
            .then(|| position("Duration"))
            .flatten(),
    })
}

fn number(
    bytes: &[u8],
    record: &Record,
    column: usize,
    name: &str,
    origin: &str,
) -> Result<u64, FaultError> {
    let text = &bytes[unquoted(bytes, &record.fields[column])];
    std::str::from_utf8(text)
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .ok_or_else(|| {
            FaultError(format!(
                "{origin}:{}: {name} {:?} is not a whole number",
                record.line,
                String::from_utf8_lossy(text)
            ))
        })
}

/// The id text of a field, refused where the faults file could not hold it.
fn id_text(bytes: &[u8], what: &str, line: usize, origin: &str) -> Result<String, FaultError> {
    let text = String::from_utf8_lossy(bytes);
    if text.is_empty() || text.contains(['\t', '\n', '\r']) {
        return fail(format!(
            "{origin}:{line}: {what} {text:?} is empty or holds a tab or line break; the faults file cannot list it"
        ));
    }
    Ok(text.into_owned())
}

/// Slows spans of `input` (a SkyWalking or research span CSV; `origin` names it in
/// errors) as `config` says.
pub fn inject(input: &[u8], config: &FaultConfig, origin: &str) -> Result<Injection, FaultError> {
    if !(0.0..=1.0).contains(&config.share) {
        return fail(format!("--share {} is outside [0, 1]", config.share));
    }
    if !(config.factor.is_finite() && config.factor >= 1.0) {
        return fail(format!(
            "--factor {} must be a number of at least 1",
            config.factor
        ));
    }
    if let Some(w) = config.window
        && !(w.from_seconds.is_finite()
            && w.to_seconds.is_finite()
            && w.from_seconds < w.to_seconds)
    {
        return fail(format!(
            "--window {}..{} must be two numbers of seconds, the first below the second",
            w.from_seconds, w.to_seconds
        ));
    }
    let all = records(input, origin)?;
    let Some((header, rows)) = all.split_first() else {
        return fail(format!(
            "{origin}: empty file: not a SkyWalking or research span CSV"
        ));
    };
    let cols = columns(input, header, origin)?;
    let layout = cols.layout;
    let text = |row: &Record, column: usize| &input[unquoted(input, &row.fields[column])];
    let (start_name, end_name) = match layout {
        Layout::SkyWalking => ("StartTime", "EndTime"),
        Layout::Research => ("StartTimeUnixNano", "EndTimeUnixNano"),
    };
    let mut starts = Vec::with_capacity(rows.len());
    let mut ends = Vec::with_capacity(rows.len());
    for row in rows {
        if row.fields.len() != header.fields.len() {
            return fail(format!(
                "{origin}:{}: {} fields where the header has {}",
                row.line,
                row.fields.len(),
                header.fields.len()
            ));
        }
        starts.push(number(input, row, cols.start, start_name, origin)?);
        ends.push(number(input, row, cols.end, end_name, origin)?);
    }
    let service_of = |i: usize| -> String {
        let raw = String::from_utf8_lossy(text(&rows[i], cols.service));
        match layout {
            Layout::SkyWalking => raw.into_owned(),
            Layout::Research => trace_formats::research::service_of_pod(&raw).to_string(),
        }
    };
    if let FaultKind::Contention { service } = &config.kind
        && !(0..rows.len()).any(|i| service_of(i) == *service)
    {
        return fail(format!("{origin}: no span of service {service:?}"));
    }
    // Traces in order of first appearance, as `apply::TraceGroups` groups them.
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
    let first_start = starts.iter().copied().min().unwrap_or(0);
    let seed = config.seed.to_le_bytes();
    let unit_nanos = layout.unit_nanos();
    let mut growth = vec![0u64; rows.len()];
    let mut faults = Vec::new();
    let mut faulted_traces = 0;
    for trace in traces.iter().skip(config.warm_up) {
        let trace_id = text(&rows[trace[0]], cols.trace_id);
        if unit(stable_hash(&[b"trace", &seed, trace_id])) >= config.share {
            continue;
        }
        if let Some(w) = config.window {
            let trace_start = trace.iter().map(|&i| starts[i]).min().unwrap_or(0);
            let offset = (trace_start - first_start) as f64 * unit_nanos as f64 / 1e9;
            if !(w.from_seconds..w.to_seconds).contains(&offset) {
                continue;
            }
        }
        let mut by_span_id: HashMap<&[u8], usize> = HashMap::new();
        for &i in trace {
            by_span_id.entry(text(&rows[i], cols.span_id)).or_insert(i);
        }
        let parent_of = |i: usize| -> Option<usize> {
            let parent = text(&rows[i], cols.parent);
            if layout.is_root(parent) {
                return None;
            }
            by_span_id.get(parent).copied().filter(|&p| p != i)
        };
        // (slowed span, its own growth in file units)
        let slowed: Vec<(usize, u64)> = match &config.kind {
            FaultKind::Delay => {
                let parents: BTreeSet<&[u8]> =
                    trace.iter().map(|&i| text(&rows[i], cols.parent)).collect();
                // Preference tiers: leaf Exit, leaf, any non-root.
                let tier = |i: usize| {
                    let leaf = !parents.contains(text(&rows[i], cols.span_id));
                    let exit = cols.span_type.is_some_and(|c| text(&rows[i], c) == b"Exit");
                    match (leaf, exit) {
                        (true, true) => 0,
                        (true, false) => 1,
                        (false, _) => 2,
                    }
                };
                let mut candidates: Vec<(u8, &[u8], usize)> = trace
                    .iter()
                    .filter(|&&i| !layout.is_root(text(&rows[i], cols.parent)))
                    .map(|&i| (tier(i), text(&rows[i], cols.span_id), i))
                    .collect();
                candidates.sort();
                let Some(&(best, _, _)) = candidates.first() else {
                    continue; // A trace of roots only: nothing to delay.
                };
                candidates.retain(|c| c.0 == best);
                let pick = stable_hash(&[b"span", &seed, trace_id]) % candidates.len() as u64;
                let chosen = candidates[pick as usize].2;
                let duration = ends[chosen].saturating_sub(starts[chosen]);
                let stretched = (duration.max(1) as f64 * config.factor).round() as u64;
                vec![(chosen, stretched.saturating_sub(duration))]
            }
            FaultKind::Contention { service } => {
                let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
                for &i in trace {
                    if let Some(p) = parent_of(i) {
                        children.entry(p).or_default().push(i);
                    }
                }
                trace
                    .iter()
                    .filter(|&&i| service_of(i) == *service)
                    .map(|&i| {
                        let spans = children.get(&i).map(Vec::as_slice).unwrap_or(&[]);
                        let covered = covered_time(
                            starts[i],
                            ends[i],
                            spans.iter().map(|&c| (starts[c], ends[c])),
                        );
                        let own = ends[i].saturating_sub(starts[i]).saturating_sub(covered);
                        let extra = (own.max(1) as f64 * (config.factor - 1.0)).round() as u64;
                        (i, extra)
                    })
                    .collect()
            }
        };
        if slowed.is_empty() {
            continue;
        }
        faulted_traces += 1;
        for &(span, delta) in &slowed {
            // The span and the ancestors that waited for it grow by `delta`; `seen`
            // guards parent cycles.
            let mut seen = BTreeSet::new();
            let mut at = Some(span);
            while let Some(i) = at {
                if !seen.insert(i) {
                    break;
                }
                growth[i] += delta;
                at = parent_of(i).filter(|&p| starts[i] < ends[p]);
            }
            let row = &rows[span];
            faults.push(Fault {
                trace_id: id_text(trace_id, "trace id", row.line, origin)?,
                span_id: id_text(text(row, cols.span_id), "span id", row.line, origin)?,
                service: id_text(service_of(span).as_bytes(), "service", row.line, origin)?,
            });
        }
    }
    faults.sort();
    let duration_unit = cols
        .duration
        .map(|column| duration_unit_nanos(input, rows, column, &starts, &ends));
    // Copy the input, rewriting only the changed fields (in file order).
    let mut output = Vec::with_capacity(input.len() + 64);
    let mut copied = 0;
    let mut changed_rows = 0;
    for (i, row) in rows.iter().enumerate() {
        if growth[i] == 0 {
            continue;
        }
        changed_rows += 1;
        let mut edits: Vec<(Range<usize>, String)> = vec![(
            unquoted(input, &row.fields[cols.end]),
            (ends[i] + growth[i]).to_string(),
        )];
        if let (Some(column), Some(unit)) = (cols.duration, duration_unit) {
            let field = unquoted(input, &row.fields[column]);
            // A Duration that is not a number is left as it is (the reader ignores it).
            if let Some(old) = std::str::from_utf8(&input[field.clone()])
                .ok()
                .and_then(|t| t.parse::<u64>().ok())
            {
                let grown =
                    old + (growth[i] as f64 * unit_nanos as f64 / unit as f64).round() as u64;
                edits.push((field, grown.to_string()));
            }
        }
        edits.sort_by_key(|(range, _)| range.start);
        for (range, value) in edits {
            output.extend_from_slice(&input[copied..range.start]);
            output.extend_from_slice(value.as_bytes());
            copied = range.end;
        }
    }
    output.extend_from_slice(&input[copied..]);
    Ok(Injection {
        output,
        faults,
        traces: traces.len(),
        faulted_traces,
        changed_rows,
    })
}

/// Time in `[start, end)` covered by the union of the `children` intervals.
pub(crate) fn covered_time(
    start: u64,
    end: u64,
    children: impl Iterator<Item = (u64, u64)>,
) -> u64 {
    let mut clipped: Vec<(u64, u64)> = children
        .map(|(s, e)| (s.max(start), e.min(end)))
        .filter(|(s, e)| s < e)
        .collect();
    clipped.sort_unstable();
    let mut covered = 0;
    let mut reach = start;
    for (s, e) in clipped {
        let s = s.max(reach);
        if e > s {
            covered += e - s;
            reach = e;
        }
    }
    covered
}

/// The unit of a research CSV's `Duration` column in nanoseconds: of 1, 1 000 and
/// 1 000 000, the nearest (in ratio) to the summed `EndTime − StartTime` over the summed
/// `Duration` of the rows where it is a number; microseconds when nothing tells.
fn duration_unit_nanos(
    input: &[u8],
    rows: &[Record],
    column: usize,
    starts: &[u64],
    ends: &[u64],
) -> u64 {
    let (mut spans, mut durations) = (0f64, 0f64);
    for (i, row) in rows.iter().enumerate() {
        let field = unquoted(input, &row.fields[column]);
        if let Some(d) = std::str::from_utf8(&input[field])
            .ok()
            .and_then(|t| t.parse::<u64>().ok())
        {
            spans += ends[i].saturating_sub(starts[i]) as f64;
            durations += d as f64;
        }
    }
    if spans <= 0.0 || durations <= 0.0 {
        return 1_000;
    }
    let ratio = spans / durations;
    [1u64, 1_000, 1_000_000]
        .into_iter()
        .min_by(|&a, &b| {
            let distance = |u: u64| (ratio / u as f64).ln().abs();
            distance(a).total_cmp(&distance(b))
        })
        .unwrap_or(1_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SKYWALKING: &str = "StartTime,EndTime,URL,SpanType,Service,SpanId,TraceId,Peer,ParentSpan,Component,IsError\n\
        100,140,{GET}/a,Entry,front,a.0,t1,front,-1,SpringMVC,False\n\
        105,135,/b,Exit,front,a.1,t1,back,a.0,RestTemplate,False\n\
        106,134,{GET}/b,Entry,back,b.0,t1,back,a.1,SpringMVC,False\n\
        110,120,MongoDB/FindOperation,Exit,back,b.1,t1,mongo,b.0,mongodb-driver,False\n\
        121,131,MongoDB/FindOperation,Exit,back,b.2,t1,mongo,b.0,mongodb-driver,False\n";

    const RESEARCH: &str = "TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration\n\
        t1,a0,root,front-6f6cfc45b-h5m2n,/a,1000000,41000000,40000\n\
        t1,a1,a0,front-6f6cfc45b-h5m2n,HTTP GET,5000000,35000000,30000\n\
        t1,b0,a1,back-7c9b8d5f4-zx7vq,/b,6000000,34000000,28000\n\
        t1,b1,b0,back-7c9b8d5f4-zx7vq,SELECT x,10000000,20000000,10000\n";

    fn contention(service: &str, factor: f64) -> FaultConfig {
        FaultConfig {
            kind: FaultKind::Contention {
                service: service.into(),
            },
            share: 1.0,
            factor,
            seed: 1,
            warm_up: 0,
            window: None,
        }
    }

    fn all_traces_delay(factor: f64) -> FaultConfig {
        FaultConfig {
            share: 1.0,
            factor,
            ..FaultConfig::delay()
        }
    }

    /// The CSV's rows as fields.
    fn table(text: &[u8]) -> Vec<Vec<String>> {
        String::from_utf8(text.to_vec())
            .unwrap()
            .lines()
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect()
    }

    #[test]
    fn delay_in_skywalking_slows_one_leaf_exit_and_extends_its_ancestors() {
        let injected = inject(SKYWALKING.as_bytes(), &all_traces_delay(3.0), "x.csv").unwrap();
        assert_eq!(injected.faults.len(), 1);
        let fault = &injected.faults[0];
        assert!(
            ["b.1", "b.2"].contains(&fault.span_id.as_str()),
            "{fault:?}"
        );
        assert_eq!(fault.service, "back");
        let rows = table(&injected.output);
        let before = table(SKYWALKING.as_bytes());
        // 10 ms becomes 30 ms: the span and its three ancestors end 20 ms later.
        for (b, a) in before.iter().zip(&rows).skip(1) {
            let grew: i64 = a[1].parse::<i64>().unwrap() - b[1].parse::<i64>().unwrap();
            let on_path = ["a.0", "a.1", "b.0", fault.span_id.as_str()].contains(&b[5].as_str());
            assert_eq!(grew, if on_path { 20 } else { 0 }, "{b:?}");
            assert_eq!(a[0], b[0]);
            assert_eq!(a[2..], b[2..]);
        }
        assert_eq!(injected.changed_rows, 4);
    }

    #[test]
    fn contention_in_skywalking_slows_every_span_of_the_service_on_its_self_time() {
        let injected = inject(SKYWALKING.as_bytes(), &contention("back", 2.0), "x.csv").unwrap();
        let slowed: Vec<&str> = injected.faults.iter().map(|f| f.span_id.as_str()).collect();
        assert_eq!(slowed, ["b.0", "b.1", "b.2"]);
        assert!(injected.faults.iter().all(|f| f.service == "back"));
        let ends: Vec<u64> = table(&injected.output)[1..]
            .iter()
            .map(|r| r[1].parse().unwrap())
            .collect();
        // b.1, b.2: 10 ms of own time each, +10 ms. b.0: 28 ms minus 20 ms of children
        // is 8 ms, +8, plus its children's 20: +28. a.1 and a.0 grow by the same 28.
        assert_eq!(ends, [168, 163, 162, 130, 141]);
        assert_eq!(injected.faulted_traces, 1);
    }

    #[test]
    fn a_consumer_after_its_producer_returned_does_not_slow_the_producer() {
        // front's producer p (105..106) publishes; back's consumer c runs later (110..120).
        let input = "StartTime,EndTime,URL,SpanType,Service,SpanId,TraceId,Peer,ParentSpan,Component,IsError\n\
            100,108,{GET}/a,Entry,front,a.0,t1,front,-1,SpringMVC,False\n\
            105,106,RabbitMQ/Producer,Exit,front,p.0,t1,mq,a.0,rabbitmq,False\n\
            110,120,RabbitMQ/Consumer,Entry,back,c.0,t1,mq,p.0,rabbitmq,False\n";
        let injected = inject(input.as_bytes(), &contention("back", 2.0), "x.csv").unwrap();
        assert_eq!(injected.changed_rows, 1);
        assert_eq!(
            String::from_utf8(injected.output).unwrap(),
            input.replace("110,120,", "110,130,")
        );
    }

    #[test]
    fn research_csv_delay_and_contention_move_end_and_duration_only() {
        let delay = inject(RESEARCH.as_bytes(), &all_traces_delay(2.0), "r.csv").unwrap();
        // The one leaf, b1 (10 ms), becomes 20 ms.
        assert_eq!(delay.faults.len(), 1);
        assert_eq!(
            (
                delay.faults[0].span_id.as_str(),
                delay.faults[0].service.as_str()
            ),
            ("b1", "back")
        );
        let expected = RESEARCH
            .replace("41000000,40000", "51000000,50000")
            .replace("35000000,30000", "45000000,40000")
            .replace("34000000,28000", "44000000,38000")
            .replace("20000000,10000", "30000000,20000");
        assert_eq!(String::from_utf8(delay.output).unwrap(), expected);
        let contention = inject(RESEARCH.as_bytes(), &contention("front", 3.0), "r.csv").unwrap();
        let slowed: Vec<&str> = contention
            .faults
            .iter()
            .map(|f| f.span_id.as_str())
            .collect();
        assert_eq!(slowed, ["a0", "a1"]);
        // a1: 30 ms − 28 ms of b0 = 2 ms own, +4 ms. a0: 40 − 30 = 10 ms own, +20, plus 4.
        let expected = RESEARCH
            .replace("41000000,40000", "65000000,64000")
            .replace("35000000,30000", "39000000,34000");
        assert_eq!(String::from_utf8(contention.output).unwrap(), expected);
    }

    #[test]
    fn injection_is_deterministic_seeded_and_independent_of_row_order() {
        let mut text = String::from(SKYWALKING.lines().next().unwrap());
        text.push('\n');
        for t in 0..200 {
            for line in SKYWALKING.lines().skip(1) {
                text.push_str(
                    &line
                        .replace(",t1,", &format!(",t{t},"))
                        .replace("a.", &format!("a{t}."))
                        .replace("b.", &format!("b{t}.")),
                );
                text.push('\n');
            }
        }
        let config = FaultConfig {
            share: 0.2,
            ..FaultConfig::delay()
        };
        let first = inject(text.as_bytes(), &config, "x").unwrap();
        assert_eq!(first, inject(text.as_bytes(), &config, "x").unwrap());
        assert!(
            (20..=60).contains(&first.faults.len()),
            "{}",
            first.faults.len()
        );
        let other = inject(
            text.as_bytes(),
            &FaultConfig {
                seed: 2,
                ..config.clone()
            },
            "x",
        )
        .unwrap();
        assert_ne!(first.faults, other.faults);
        let mut lines: Vec<&str> = text.lines().collect();
        lines[1..].reverse();
        let reversed = lines.join("\n") + "\n";
        assert_eq!(
            inject(reversed.as_bytes(), &config, "x").unwrap().faults,
            first.faults
        );
        // Contention chooses the same traces as a delay with the same seed and share.
        let busy = FaultConfig {
            share: 0.2,
            ..contention("back", 2.0)
        };
        let busy = inject(text.as_bytes(), &busy, "x").unwrap();
        let traces = |faults: &[Fault]| {
            faults
                .iter()
                .map(|f| f.trace_id.clone())
                .collect::<BTreeSet<_>>()
        };
        assert_eq!(traces(&busy.faults), traces(&first.faults));
        assert_eq!(busy.faults.len(), 3 * first.faults.len());
    }

    #[test]
    fn window_and_warm_up_limit_the_chosen_traces() {
        // Traces one second apart.
        let mut text = String::from(RESEARCH.lines().next().unwrap());
        text.push('\n');
        for t in 0..10u64 {
            let shift = t * 1_000_000_000;
            text.push_str(&format!(
                "t{t},a{t},root,front-1,/a,{},{},10\n",
                shift,
                shift + 10_000_000
            ));
        }
        let config = FaultConfig {
            window: Some(TimeWindow {
                from_seconds: 3.0,
                to_seconds: 6.0,
            }),
            ..contention("front", 2.0)
        };
        let chosen: Vec<String> = inject(text.as_bytes(), &config, "w")
            .unwrap()
            .faults
            .into_iter()
            .map(|f| f.trace_id)
            .collect();
        assert_eq!(chosen, ["t3", "t4", "t5"]);
        let warm = FaultConfig {
            warm_up: 4,
            ..config
        };
        let chosen: Vec<String> = inject(text.as_bytes(), &warm, "w")
            .unwrap()
            .faults
            .into_iter()
            .map(|f| f.trace_id)
            .collect();
        assert_eq!(chosen, ["t4", "t5"]);
    }

    #[test]
    fn share_zero_changes_nothing() {
        for input in [SKYWALKING, RESEARCH] {
            let config = FaultConfig {
                share: 0.0,
                ..FaultConfig::delay()
            };
            let none = inject(input.as_bytes(), &config, "x").unwrap();
            assert_eq!(none.output, input.as_bytes());
            assert!(none.faults.is_empty());
        }
    }

    #[test]
    fn faults_file_round_trips_and_bad_lines_name_file_and_line() {
        let faults = vec![
            Fault {
                trace_id: "t1".into(),
                span_id: "s1".into(),
                service: "back".into(),
            },
            Fault {
                trace_id: "t2".into(),
                span_id: "s9".into(),
                service: "front".into(),
            },
        ];
        let text = faults_tsv(&faults, &["made by a test".into()]);
        assert!(text.starts_with("# made by a test\ntrace_id\tspan_id\tservice\n"));
        assert_eq!(parse_faults(&text, "f.tsv").unwrap(), faults);
        let error = parse_faults("t1\ts1\tback\nt2 s2\n", "f.tsv").unwrap_err();
        assert!(
            error.to_string().starts_with("f.tsv:2: expected"),
            "{error}"
        );
    }

    #[test]
    fn bad_input_is_an_error_naming_file_and_line() {
        let header = trace_formats::SKYWALKING_HEADER;
        let cases = [
            ("", "empty.csv: empty file"),
            (
                "a,b\n1,2\n",
                "x.csv:1: no column \"TraceId\" or \"TraceID\"",
            ),
            ("TraceId,SpanId\n1,2\n", "x.csv:1: no column \"StartTime\""),
            (
                &*format!("{header}\n1,x,u,Exit,s,1,t,p,-1,c,False\n"),
                "x.csv:2: EndTime \"x\" is not a whole number",
            ),
            (
                &*format!("{header}\n1,2,\"u,Exit\n"),
                "x.csv:2: a quoted field is never closed",
            ),
            (
                &*format!("{header}\n\n1,2,u\n"),
                "x.csv:3: 3 fields where the header has 11",
            ),
        ];
        for (input, message) in cases {
            let origin = if input.is_empty() {
                "empty.csv"
            } else {
                "x.csv"
            };
            let error = inject(input.as_bytes(), &FaultConfig::delay(), origin).unwrap_err();
            assert!(
                error.to_string().starts_with(message),
                "{error} for {input:?}"
            );
        }
        let error = inject(SKYWALKING.as_bytes(), &contention("nobody", 2.0), "x.csv").unwrap_err();
        assert_eq!(error.to_string(), "x.csv: no span of service \"nobody\"");
        for bad in [
            FaultConfig {
                share: 1.5,
                ..FaultConfig::delay()
            },
            FaultConfig {
                factor: 0.5,
                ..FaultConfig::delay()
            },
            FaultConfig {
                window: Some(TimeWindow {
                    from_seconds: 5.0,
                    to_seconds: 1.0,
                }),
                ..FaultConfig::delay()
            },
        ] {
            assert!(inject(SKYWALKING.as_bytes(), &bad, "x").is_err());
        }
    }

    #[test]
    fn covered_time_merges_overlaps_and_clips_to_the_parent() {
        assert_eq!(
            covered_time(0, 100, [(10, 20), (15, 30), (90, 120)].into_iter()),
            30
        );
        assert_eq!(covered_time(0, 100, std::iter::empty()), 0);
        assert_eq!(covered_time(50, 60, [(0, 10)].into_iter()), 0);
    }
}
