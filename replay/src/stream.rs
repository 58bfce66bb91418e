//! Trace files of any size in bounded memory: the file commands read an input block by
//! block, gather its spans into traces with the assembler `serve` uses
//! (`trace-assembly`), and hand whole traces on in batches.
//!
//! - **When a trace is whole.** The clock is the span's position in the input: a trace
//!   is closed once [`StreamLimits::trace_gap_spans`] further spans passed without one
//!   of it. Exports hold a trace's spans together (or nearly), so a trace closes soon
//!   after its last span, in the order the traces end.
//! - **Bounded memory.** At most [`StreamLimits::window_spans`] spans or
//!   [`StreamLimits::window_bytes`] bytes are held in open traces (plus one block of
//!   input, [`trace_formats::stream::BLOCK_BYTES`], and one batch). When a trace stays
//!   open beyond that (its spans spread over the input), the oldest is **spilled** to an
//!   unnamed temporary file (in `TMPDIR`, gone when the process ends, whatever ends it),
//!   its later spans follow it there, and it is read back whole and handed on when it
//!   ends (the gap passed without a span of it), as any other trace: deciding it later
//!   would change what time-dependent parts of a policy (latency windows, the budget in
//!   spans per second) make of it. Nothing is decided on part of a trace.
//! - **Same result as whole-file reading** when every trace's spans lie within the
//!   gap of each other: each trace is handed on whole, traces in the order they end in
//!   the input, spans in input order. A trace whose spans lie
//!   further apart than the gap is handed on as two traces: [`StreamStats::split_traces`]
//!   counts them (among the last [`RECENT_TRACES`] traces closed), so a command can say
//!   so.
//!
//! A JSON document read whole (Jaeger, Zipkin, pretty-printed OTLP: see
//! [`BlockReader`]) is handed on as one batch grouped by [`TraceGroups::of`].

use crate::apply::TraceGroups;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::io::{self, Read, Seek, SeekFrom, Write};
use trace_assembly::{Assembler, CloseReason, Limits, Pushed};
use trace_formats::{BlockReader, DocumentShape, ReadError, Record, TraceDocument};

/// Traces whose keys are remembered after closing, to count split traces.
pub const RECENT_TRACES: usize = 1 << 18;
/// Spans handed on per batch by default (whole traces: a batch can be larger by one
/// trace).
pub const BATCH_SPANS: usize = 4096;

/// The bounds of streaming.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    /// Spans held in open traces at most.
    pub window_spans: usize,
    /// Bytes held in open traces at most (as [`Record::memory_bytes`] counts them).
    pub window_bytes: usize,
    /// A trace is whole once this many spans of the input passed without one of it.
    pub trace_gap_spans: u64,
    /// Spans handed on per batch, at least (a batch ends with a whole trace).
    pub batch_spans: usize,
}

impl StreamLimits {
    /// No bound: the whole input is one batch, its traces grouped as
    /// [`TraceGroups::of`] groups them (for measurements that need a whole file).
    pub fn whole_input() -> Self {
        Self {
            window_spans: usize::MAX,
            window_bytes: usize::MAX,
            trace_gap_spans: u64::MAX / 2,
            batch_spans: usize::MAX,
        }
    }
}

impl Default for StreamLimits {
    /// 200 000 spans or 128 MiB in open traces, traces whole after 50 000 spans
    /// without one of theirs.
    fn default() -> Self {
        Self {
            window_spans: 200_000,
            window_bytes: 128 << 20,
            trace_gap_spans: 10_000,
            batch_spans: BATCH_SPANS,
        }
    }
}

/// What streaming an input did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StreamStats {
    /// Spans read.
    pub spans: u64,
    /// Traces handed on (a split trace counts twice).
    pub traces: u64,
    /// Traces spilled to the temporary file because they stayed open too long.
    pub spilled_traces: u64,
    /// Spans written to the temporary file.
    pub spilled_spans: u64,
    /// Traces seen again after they were handed on (their spans lie further apart than
    /// the gap): each part was handed on as a trace of its own.
    pub split_traces: u64,
    /// Most spans held in open traces at once.
    pub peak_window_spans: usize,
    /// Most bytes held in open traces at once.
    pub peak_window_bytes: usize,
}

/// Why streaming stopped.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The input could not be read (not `transparent`: callers find the
    /// [`ReadError`] among the causes).
    #[error("{0}")]
    Read(#[from] ReadError),
    /// The temporary file for spilled traces failed.
    #[error("cannot use the temporary file for traces spread over the input (TMPDIR): {0}")]
    Spill(#[source] io::Error),
}

/// Reads `reader` to its end and calls `on_batch` with documents of whole traces and
/// their grouping (see the [module docs](self)).
pub fn for_each_batch<E: From<StreamError>>(
    reader: &mut BlockReader,
    limits: &StreamLimits,
    mut on_batch: impl FnMut(&TraceDocument, &TraceGroups) -> Result<(), E>,
) -> Result<StreamStats, E> {
    let mut stats = StreamStats::default();
    if !reader.is_blocked() {
        while let Some(doc) = reader.next_block().map_err(StreamError::from)? {
            let groups = TraceGroups::of(&doc.spans);
            stats.spans += doc.spans.len() as u64;
            stats.traces += groups.traces.len() as u64;
            stats.peak_window_spans = stats.peak_window_spans.max(doc.spans.len());
            on_batch(&doc, &groups)?;
        }
        return Ok(stats);
    }
    let shape = reader.shape();
    let mut assembler: Assembler<u128, Record, ()> = Assembler::new(Limits {
        decision_wait: limits.trace_gap_spans,
        max_trace_age: u64::MAX,
        max_buffered_spans: limits.window_spans,
        max_buffered_bytes: limits.window_bytes,
        decision_cache_traces: 0,
    });
    let mut spill = Spill::default();
    let mut batch = BatchBuilder::default();
    let mut recent = RecentKeys::default();
    let mut now = 0u64;
    while let Some(block) = reader.next_block().map_err(StreamError::from)? {
        let (records, buffer) = block.into_records_and_buffer();
        if let Some(buffer) = buffer {
            reader.recycle(buffer);
        }
        for record in records {
            let key = trace_key(&record.span.trace_id);
            let bytes = record.memory_bytes();
            // A push never closes a trace: one more open trace means this span opened it.
            let open_before = assembler.open_traces();
            match assembler.push(now, key, record, true, bytes) {
                Pushed::Buffered => {
                    if assembler.open_traces() > open_before && recent.contains(key) {
                        stats.split_traces += 1;
                    }
                }
                Pushed::Spilled(record) => {
                    stats.spilled_spans += 1;
                    spill
                        .append(&shape, key, std::slice::from_ref(&record))
                        .map_err(StreamError::Spill)?;
                    spill.seen(key, now);
                }
                // No decision is remembered (`decision_cache_traces` is 0).
                Pushed::Late(record, ()) => batch.add(vec![record]),
            }
            stats.peak_window_spans = stats.peak_window_spans.max(assembler.buffered_spans());
            stats.peak_window_bytes = stats.peak_window_bytes.max(assembler.buffered_bytes());
            // Polled at every span: a trace closes as soon as it is due, so the window
            // holds only traces still open and the oldest of those is what overflows.
            while let Some(closed) = assembler.poll(now) {
                if closed.reason == CloseReason::Overflow {
                    stats.spilled_traces += 1;
                    stats.spilled_spans += closed.spans.len() as u64;
                    spill
                        .append(&shape, closed.key, &closed.spans)
                        .map_err(StreamError::Spill)?;
                    assembler.mark_spilled(closed.key);
                    spill.seen(closed.key, now);
                    continue;
                }
                recent.insert(closed.key);
                batch.add(closed.spans);
                if batch.spans() >= limits.batch_spans {
                    batch.flush(&shape, &mut stats, &mut on_batch)?;
                }
            }
            // A spilled trace is decided when it ends, as any other: read back whole
            // once the gap passed without a span of it.
            while let Some(key) = spill.next_ended(now, limits.trace_gap_spans) {
                let records = spill.read(&shape, key)?;
                assembler.unspill(&key);
                recent.insert(key);
                batch.add(records);
                if batch.spans() >= limits.batch_spans {
                    batch.flush(&shape, &mut stats, &mut on_batch)?;
                }
            }
            now += 1;
        }
    }
    for closed in assembler.close_all() {
        batch.add(closed.spans);
        if batch.spans() >= limits.batch_spans {
            batch.flush(&shape, &mut stats, &mut on_batch)?;
        }
    }
    // Spilled traces still open at the end, in the order they would have ended.
    while let Some(key) = spill.next_ended(u64::MAX, 0) {
        let records = spill.read(&shape, key)?;
        assembler.unspill(&key);
        batch.add(records);
        if batch.spans() >= limits.batch_spans {
            batch.flush(&shape, &mut stats, &mut on_batch)?;
        }
    }
    batch.flush(&shape, &mut stats, &mut on_batch)?;
    stats.spans = now;
    Ok(stats)
}

/// The assembler's key for a trace id: its 128-bit XXH3 hash (two ids of a file sharing
/// one has a chance of about 2^-128 per pair), so that a key costs no allocation.
fn trace_key(trace_id: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(trace_id)
}

/// Closed traces gathered into one document.
#[derive(Default)]
struct BatchBuilder {
    records: Vec<Record>,
    traces: Vec<Vec<usize>>,
}

impl BatchBuilder {
    fn spans(&self) -> usize {
        self.records.len()
    }

    fn add(&mut self, trace: Vec<Record>) {
        let start = self.records.len();
        self.traces.push((start..start + trace.len()).collect());
        self.records.extend(trace);
    }

    fn flush<E: From<StreamError>>(
        &mut self,
        shape: &DocumentShape,
        stats: &mut StreamStats,
        on_batch: &mut impl FnMut(&TraceDocument, &TraceGroups) -> Result<(), E>,
    ) -> Result<(), E> {
        if self.records.is_empty() {
            return Ok(());
        }
        // The next batch's vector sized as this one: no regrowth (and no copies of
        // records) while it fills.
        let capacity = self.records.len();
        let records = std::mem::replace(&mut self.records, Vec::with_capacity(capacity));
        let doc = shape.document(records);
        let groups = TraceGroups {
            traces: std::mem::take(&mut self.traces),
        };
        stats.traces += groups.traces.len() as u64;
        on_batch(&doc, &groups)
    }
}

/// Keys of the traces closed last, to tell a trace seen again.
#[derive(Default)]
struct RecentKeys {
    set: HashSet<u128, ahash::RandomState>,
    order: VecDeque<u128>,
}

impl RecentKeys {
    fn insert(&mut self, key: u128) {
        if self.set.insert(key) {
            self.order.push_back(key);
        }
        if self.order.len() > RECENT_TRACES
            && let Some(oldest) = self.order.pop_front()
        {
            self.set.remove(&oldest);
        }
    }

    fn contains(&self, key: u128) -> bool {
        !self.set.is_empty() && self.set.contains(&key)
    }
}

/// The unnamed temporary file of spilled traces: pieces appended as they come, an index
/// of each trace's pieces, and when each was last seen (space of traces read back is
/// not reused: the file grows with the spilled bytes, on disk).
#[derive(Default)]
struct Spill {
    file: Option<io::BufWriter<std::fs::File>>,
    length: u64,
    pieces: HashMap<u128, Vec<(u64, usize)>, ahash::RandomState>,
    buffer: Vec<u8>,
    last_seen: HashMap<u128, u64, ahash::RandomState>,
    /// Candidate end times (last seen, key), earliest first; an entry is stale when the
    /// trace was seen since (then it is queued again with the later time).
    ends: BinaryHeap<Reverse<(u64, u128)>>,
}

impl Spill {
    /// A span of spilled trace `key` was at position `now`.
    fn seen(&mut self, key: u128, now: u64) {
        if self.last_seen.insert(key, now).is_none() {
            self.ends.push(Reverse((now, key)));
        }
    }

    /// A spilled trace not seen for `gap` spans before `now`, if any (the earliest).
    fn next_ended(&mut self, now: u64, gap: u64) -> Option<u128> {
        while let Some(&Reverse((seen, key))) = self.ends.peek() {
            if seen.saturating_add(gap) > now {
                return None;
            }
            self.ends.pop();
            let Some(&last) = self.last_seen.get(&key) else {
                continue;
            };
            if last != seen {
                self.ends.push(Reverse((last, key)));
                continue;
            }
            self.last_seen.remove(&key);
            return Some(key);
        }
        None
    }

    fn append(&mut self, shape: &DocumentShape, key: u128, records: &[Record]) -> io::Result<()> {
        if self.file.is_none() {
            self.file = Some(io::BufWriter::with_capacity(1 << 20, tempfile::tempfile()?));
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        self.buffer.clear();
        shape
            .write_spill(records, &mut self.buffer)
            .map_err(io::Error::other)?;
        file.write_all(&self.buffer)?;
        self.pieces
            .entry(key)
            .or_default()
            .push((self.length, self.buffer.len()));
        self.length += self.buffer.len() as u64;
        Ok(())
    }

    fn read(&mut self, shape: &DocumentShape, key: u128) -> Result<Vec<Record>, StreamError> {
        let Some(pieces) = self.pieces.remove(&key) else {
            return Ok(Vec::new());
        };
        let Some(writer) = self.file.as_mut() else {
            return Ok(Vec::new());
        };
        writer.flush().map_err(StreamError::Spill)?;
        let file = writer.get_mut();
        let mut bytes = Vec::with_capacity(pieces.iter().map(|p| p.1).sum());
        for (offset, length) in pieces {
            file.seek(SeekFrom::Start(offset))
                .map_err(StreamError::Spill)?;
            let start = bytes.len();
            bytes.resize(start + length, 0);
            file.read_exact(&mut bytes[start..])
                .map_err(StreamError::Spill)?;
        }
        // Later appends go to the end again.
        file.seek(SeekFrom::End(0)).map_err(StreamError::Spill)?;
        Ok(shape.read_spill(bytes)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration\n";

    fn row(trace: usize, span: usize) -> String {
        let parent = if span == 0 {
            "root".to_string()
        } else {
            format!("s{trace}-{}", span - 1)
        };
        format!(
            "t{trace},s{trace}-{span},{parent},svc-{}-abc-xyz,op{span},{},{},10\n",
            trace % 4,
            100 + span,
            110 + span
        )
    }

    /// A trace as its id and its span ids.
    type TraceIds = (Vec<u8>, Vec<Vec<u8>>);

    /// Traces in the order they were handed on.
    fn stream(text: &str, limits: &StreamLimits) -> (Vec<TraceIds>, StreamStats) {
        let mut reader =
            BlockReader::new(Box::new(io::Cursor::new(text.as_bytes().to_vec())), "t.csv").unwrap();
        let mut traces = Vec::new();
        let stats = for_each_batch::<StreamError>(&mut reader, limits, |doc, groups| {
            for trace in &groups.traces {
                let id = doc.spans[trace[0]].trace_id.clone();
                assert!(trace.iter().all(|&i| doc.spans[i].trace_id == id));
                traces.push((
                    id,
                    trace
                        .iter()
                        .map(|&i| doc.spans[i].span_id.clone())
                        .collect(),
                ));
            }
            Ok(())
        })
        .unwrap();
        (traces, stats)
    }

    fn whole(text: &str) -> Vec<TraceIds> {
        let doc = trace_formats::read(text.as_bytes(), "t.csv").unwrap();
        TraceGroups::of(&doc.spans)
            .traces
            .iter()
            .map(|t| {
                (
                    doc.spans[t[0]].trace_id.clone(),
                    t.iter().map(|&i| doc.spans[i].span_id.clone()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn contiguous_traces_come_whole_in_input_order() {
        let mut text = HEADER.to_string();
        for t in 0..3000 {
            for s in 0..7 {
                text.push_str(&row(t, s));
            }
        }
        let limits = StreamLimits {
            window_spans: 500,
            window_bytes: usize::MAX,
            trace_gap_spans: 50,
            batch_spans: BATCH_SPANS,
        };
        let (traces, stats) = stream(&text, &limits);
        assert_eq!(traces, whole(&text));
        assert_eq!(stats.spans, 21_000);
        assert_eq!((stats.spilled_traces, stats.split_traces), (0, 0));
        assert!(stats.peak_window_spans <= 500 + 21_000, "{stats:?}");
    }

    #[test]
    fn a_trace_spread_over_the_input_is_spilled_and_comes_whole_at_the_end() {
        let mut text = HEADER.to_string();
        // Trace 0 has one span between every other trace; the window holds 100 spans.
        for t in 1..400 {
            text.push_str(&row(0, t - 1));
            for s in 0..3 {
                text.push_str(&row(t, s));
            }
        }
        let limits = StreamLimits {
            window_spans: 100,
            window_bytes: usize::MAX,
            trace_gap_spans: 10,
            batch_spans: BATCH_SPANS,
        };
        let (traces, stats) = stream(&text, &limits);
        assert_eq!(stats.spilled_traces, 1, "{stats:?}");
        assert_eq!(stats.split_traces, 0);
        let mut expected = whole(&text);
        let spread = expected.remove(0);
        expected.push(spread);
        assert_eq!(traces, expected);
    }

    #[test]
    fn a_trace_seen_again_after_the_gap_is_counted_as_split() {
        let mut text = HEADER.to_string();
        text.push_str(&row(0, 0));
        for t in 1..50 {
            text.push_str(&row(t, 0));
        }
        text.push_str(&row(0, 1));
        let limits = StreamLimits {
            window_spans: 1000,
            window_bytes: usize::MAX,
            trace_gap_spans: 5,
            batch_spans: BATCH_SPANS,
        };
        let (traces, stats) = stream(&text, &limits);
        assert_eq!(stats.split_traces, 1);
        assert_eq!(traces.len(), 51);
        assert_eq!(stats.traces, 51);
    }

    #[test]
    fn a_byte_window_bounds_memory_too() {
        let mut text = HEADER.to_string();
        for t in 0..200 {
            for s in 0..5 {
                text.push_str(&row(t, s));
            }
        }
        let limits = StreamLimits {
            window_spans: usize::MAX,
            window_bytes: 4096,
            trace_gap_spans: 1,
            batch_spans: BATCH_SPANS,
        };
        let (traces, _) = stream(&text, &limits);
        let mut sorted = traces.clone();
        sorted.sort();
        let mut expected = whole(&text);
        expected.sort();
        assert_eq!(sorted, expected);
    }

    #[test]
    fn a_spilled_trace_is_handed_on_when_it_ends_not_at_the_end_of_the_input() {
        let mut text = HEADER.to_string();
        // Trace 0 is spread over traces 1..100, then 200 more traces follow.
        for t in 1..100 {
            text.push_str(&row(0, t - 1));
            text.push_str(&row(t, 0));
        }
        for t in 100..300 {
            text.push_str(&row(t, 0));
        }
        let limits = StreamLimits {
            window_spans: 20,
            window_bytes: usize::MAX,
            trace_gap_spans: 10,
            batch_spans: 1,
        };
        let (traces, stats) = stream(&text, &limits);
        assert_eq!(stats.spilled_traces, 1, "{stats:?}");
        let position = traces.iter().position(|(id, _)| id == b"t0").unwrap();
        assert_eq!(traces[position].1.len(), 99);
        assert!(position < 120, "decided at {position} of {}", traces.len());
        assert_eq!(traces.len(), 300);
    }
}
