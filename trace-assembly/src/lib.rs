//! Gathers spans into traces with bounded waiting and bounded memory, and remembers what
//! was decided so that late spans are treated consistently.
//!
//! This is the core `autoscope serve` runs between its OTLP receivers and the runtime
//! sampler, and the one the file commands run to stream inputs of any size. It is
//! synchronous and knows nothing of networks, files or span formats: it is generic over
//! the trace key `K`, the buffered span `S` and the remembered decision `D`, and the
//! caller passes the clock in.
//!
//! # Life of a trace
//! 1. [`Assembler::push`] buffers a span under its trace key. The caller says whether the
//!    span is a root (OTLP sends a span when it *ends*, so the root arrives last or nearly
//!    so) and how many bytes it holds (counted against [`Limits::max_buffered_bytes`]).
//! 2. A trace is **complete** when its root has arrived and nothing new came for
//!    [`Limits::decision_wait`]; a trace whose root never comes is closed at the **hard
//!    deadline**, [`Limits::max_trace_age`] after its first span. Either way it comes out
//!    of [`Assembler::poll`] ([`Closed`]) once the clock passes that time, in order of due
//!    time then arrival.
//! 3. When the buffer holds more than [`Limits::max_buffered_spans`] spans or
//!    [`Limits::max_buffered_bytes`] bytes, the **oldest** traces (by first span) are
//!    closed at once with [`CloseReason::Overflow`]: decided early, never dropped. Memory
//!    is thus bounded by the limits plus one push.
//! 4. The caller decides the closed trace and calls [`Assembler::remember`] with what it
//!    needs to treat late spans (for `serve`: the kept set and the parent links). The
//!    **decision cache** holds the last [`Limits::decision_cache_traces`] decisions.
//! 5. A span of a remembered trace is **late**: [`Assembler::push`] hands it back with
//!    the cached decision ([`Pushed::Late`]) instead of buffering it. A late span of a
//!    trace already forgotten cannot be told from a new trace (that would take unbounded
//!    memory) and starts one; [`Assembler::forgotten_decisions`] counts the decisions
//!    forgotten, so a caller can size the cache.
//!
//! # Clocks
//! The clock is any monotone `u64` the caller chooses, in the units of the durations in
//! [`Limits`]: `serve` passes monotonic nanoseconds since start. A file reader passes an
//! *input position* (the index of the span in the input, or its byte offset), or event
//! time (span end times): with `decision_wait` in spans, "nothing new for `wait`" becomes
//! "not seen for the next `wait` spans of the input", which closes the contiguous traces
//! of an export as soon as the next trace has gone on long enough. Times that go back are
//! taken as the latest time seen, so an unsorted clock never reopens anything.
//!
//! # The file-mode hook: spilling traces that stay open
//! A file's window of open traces is [`Limits::max_buffered_spans`]. A trace can stay
//! open longer than the window allows (an export that interleaves a long trace with
//! thousands of others). For files, deciding it early would change the output (a trace
//! decided in two parts keeps a different set than a whole one), so the caller may
//! **spill** an overflowing trace instead:
//! - a trace closed with [`CloseReason::Overflow`] is handed to the caller, who writes
//!   its spans to a temporary file and calls [`Assembler::mark_spilled`];
//! - from then on every span of that trace comes back from [`Assembler::push`] as
//!   [`Pushed::Spilled`], to be appended to the same spill, and costs no memory here;
//! - the caller reads a spilled trace back whole and decides it when it is done (for
//!   files: once no span of it came for the decision wait) and calls
//!   [`Assembler::unspill`]; at the end of the input, [`Assembler::spilled`] lists the
//!   spilled traces still waiting (in order of spilling).
//!
//! `serve` never spills: it decides overflowing traces early and treats what follows as
//! late spans.

use ahash::RandomState;
use std::cmp::Reverse;
use std::collections::hash_map::Entry;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::hash::Hash;

/// The bounds of an [`Assembler`]. Durations are in the units of the caller's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A trace whose root has arrived is complete when nothing new came for this long.
    pub decision_wait: u64,
    /// A trace is closed this long after its first span, complete or not.
    pub max_trace_age: u64,
    /// Buffered spans above this close the oldest traces early.
    pub max_buffered_spans: usize,
    /// Buffered bytes (as the caller counts them) above this close the oldest traces
    /// early.
    pub max_buffered_bytes: usize,
    /// Decisions remembered for late spans (0: none).
    pub decision_cache_traces: usize,
}

impl Limits {
    /// `serve`'s defaults on a nanosecond clock: 5 s decision wait, 30 s hard deadline,
    /// one million buffered spans or 512 MiB, 200 000 remembered decisions.
    pub const fn serve_defaults() -> Self {
        Self {
            decision_wait: 5_000_000_000,
            max_trace_age: 30_000_000_000,
            max_buffered_spans: 1_000_000,
            max_buffered_bytes: 512 << 20,
            decision_cache_traces: 200_000,
        }
    }
}

/// Why a trace was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CloseReason {
    /// Its root arrived and nothing new came for the decision wait.
    Complete,
    /// The hard deadline passed (its root had not arrived, or spans kept coming).
    Deadline,
    /// The buffer was over a limit and this was the oldest trace.
    Overflow,
    /// [`Assembler::close_all`] (shutdown, end of input).
    Flush,
}

/// A closed trace, to be decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed<K, S> {
    /// The trace key.
    pub key: K,
    /// Its spans in arrival order.
    pub spans: Vec<S>,
    /// The bytes they were counted as.
    pub bytes: usize,
    /// Why it closed.
    pub reason: CloseReason,
    /// Clock time of its first span.
    pub first_seen: u64,
    /// Whether a root span arrived.
    pub root_seen: bool,
}

/// What [`Assembler::push`] did with a span.
#[derive(Debug, PartialEq, Eq)]
pub enum Pushed<'a, S, D> {
    /// Buffered in its open trace.
    Buffered,
    /// Its trace was already decided: decide the span against the cached decision.
    Late(S, &'a mut D),
    /// Its trace was spilled ([`Assembler::mark_spilled`]): append the span to the spill.
    Spilled(S),
}

/// Counters over the assembler's life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Spans pushed.
    pub spans_pushed: u64,
    /// Traces opened.
    pub traces_opened: u64,
    /// Traces closed, by reason: complete.
    pub closed_complete: u64,
    /// Closed at the hard deadline.
    pub closed_deadline: u64,
    /// Closed early because the buffer was over a limit.
    pub closed_overflow: u64,
    /// Closed by [`Assembler::close_all`].
    pub closed_flush: u64,
    /// Late spans answered from the decision cache.
    pub late_cached: u64,
    /// Spans handed back for a spilled trace.
    pub spilled_spans: u64,
}

#[derive(Debug)]
struct OpenTrace<S> {
    spans: Vec<S>,
    bytes: usize,
    first_seen: u64,
    last_seen: u64,
    root_seen: bool,
    /// Arrival order of the trace, unique: ties in due time go to the older trace, and
    /// stale queue entries are told apart from a reopened trace of the same key.
    seq: u64,
    /// Set when the trace is over a limit and must close at the next poll.
    overflow: bool,
}

impl<S> OpenTrace<S> {
    fn due(&self, limits: &Limits) -> u64 {
        let deadline = self.first_seen.saturating_add(limits.max_trace_age);
        if self.root_seen {
            self.last_seen
                .saturating_add(limits.decision_wait)
                .min(deadline)
        } else {
            deadline
        }
    }
}

/// Bounded memory of decisions by trace key, forgetting the oldest first.
#[derive(Debug)]
struct DecisionCache<K, D> {
    capacity: usize,
    map: HashMap<K, D, RandomState>,
    order: VecDeque<K>,
    /// Keys decided but since forgotten are not tracked (that would be unbounded); this
    /// counts how many were forgotten.
    forgotten: u64,
}

impl<K: Eq + Hash + Clone, D> DecisionCache<K, D> {
    fn insert(&mut self, key: K, decision: D) {
        if self.capacity == 0 {
            self.forgotten += 1;
            return;
        }
        match self.map.entry(key) {
            Entry::Occupied(mut slot) => {
                slot.insert(decision);
                return;
            }
            Entry::Vacant(slot) => {
                self.order.push_back(slot.key().clone());
                slot.insert(decision);
            }
        }
        while self.map.len() > self.capacity {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if self.map.remove(&oldest).is_some() {
                self.forgotten += 1;
            }
        }
    }
}

/// Gathers spans into traces; see the [crate docs](crate).
#[derive(Debug)]
pub struct Assembler<K, S, D> {
    limits: Limits,
    open: HashMap<K, OpenTrace<S>, RandomState>,
    /// Candidate due times: (due, seq, key). An entry is stale when the trace is gone
    /// or has a later due time (then it is pushed again with that time).
    due: BinaryHeap<Reverse<(u64, u64, K)>>,
    /// Open traces in arrival order, for closing the oldest on overflow (stale entries
    /// are skipped).
    arrival: VecDeque<(u64, K)>,
    /// Traces closed for overflow, waiting for the next poll.
    overflowed: VecDeque<K>,
    buffered_spans: usize,
    buffered_bytes: usize,
    next_seq: u64,
    now: u64,
    cache: DecisionCache<K, D>,
    spilled: HashSet<K, RandomState>,
    spill_order: Vec<K>,
    stats: Stats,
}

impl<K: Eq + Hash + Clone + Ord, S, D> Assembler<K, S, D> {
    /// An empty assembler.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            open: HashMap::default(),
            due: BinaryHeap::new(),
            arrival: VecDeque::new(),
            overflowed: VecDeque::new(),
            buffered_spans: 0,
            buffered_bytes: 0,
            next_seq: 0,
            now: 0,
            cache: DecisionCache {
                capacity: limits.decision_cache_traces,
                map: HashMap::default(),
                order: VecDeque::new(),
                forgotten: 0,
            },
            spilled: HashSet::default(),
            spill_order: Vec::new(),
            stats: Stats::default(),
        }
    }

    /// The limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Changes the limits; takes effect at the next push or poll.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
        self.cache.capacity = limits.decision_cache_traces;
    }

    /// Spans buffered in open traces (including traces closed for overflow and not yet
    /// polled).
    pub fn buffered_spans(&self) -> usize {
        self.buffered_spans
    }

    /// Bytes buffered, as the caller counted them.
    pub fn buffered_bytes(&self) -> usize {
        self.buffered_bytes
    }

    /// Open traces.
    pub fn open_traces(&self) -> usize {
        self.open.len()
    }

    /// Decisions remembered.
    pub fn remembered(&self) -> usize {
        self.cache.map.len()
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Whether `span_count` more spans of `bytes` fit under the limits without closing
    /// anything early.
    pub fn has_room(&self, span_count: usize, bytes: usize) -> bool {
        self.buffered_spans.saturating_add(span_count) <= self.limits.max_buffered_spans
            && self.buffered_bytes.saturating_add(bytes) <= self.limits.max_buffered_bytes
    }

    fn advance(&mut self, now: u64) -> u64 {
        self.now = self.now.max(now);
        self.now
    }

    /// Adds a span of trace `key` at clock time `now`. `is_root`: the span has no parent;
    /// `bytes`: what it costs in memory (any unit the caller also uses for
    /// [`Limits::max_buffered_bytes`]).
    pub fn push(
        &mut self,
        now: u64,
        key: K,
        span: S,
        is_root: bool,
        bytes: usize,
    ) -> Pushed<'_, S, D> {
        let now = self.advance(now);
        self.stats.spans_pushed += 1;
        let limits = self.limits;
        if let Some(trace) = self.open.get_mut(&key) {
            trace.spans.push(span);
            trace.bytes += bytes;
            trace.last_seen = now;
            if is_root && !trace.root_seen {
                trace.root_seen = true;
                // The due time may now come before the deadline entry already queued.
                let entry = Reverse((trace.due(&limits), trace.seq, key));
                self.due.push(entry);
            }
        } else if !self.spilled.is_empty() && self.spilled.contains(&key) {
            self.stats.spilled_spans += 1;
            return Pushed::Spilled(span);
        } else if self.cache.map.contains_key(&key) {
            self.stats.late_cached += 1;
            let decision = self.cache.map.get_mut(&key).expect("checked just above");
            return Pushed::Late(span, decision);
        } else {
            let seq = self.next_seq;
            self.next_seq += 1;
            self.stats.traces_opened += 1;
            let trace = OpenTrace {
                spans: vec![span],
                bytes,
                first_seen: now,
                last_seen: now,
                root_seen: is_root,
                seq,
                overflow: false,
            };
            self.arrival.push_back((seq, key.clone()));
            self.due
                .push(Reverse((trace.due(&limits), seq, key.clone())));
            self.open.insert(key, trace);
        }
        self.buffered_spans += 1;
        self.buffered_bytes += bytes;
        if self.buffered_spans > limits.max_buffered_spans
            || self.buffered_bytes > limits.max_buffered_bytes
        {
            self.enforce_limits();
        }
        Pushed::Buffered
    }

    /// Marks the oldest traces for early closing until the buffer is within its limits.
    fn enforce_limits(&mut self) {
        let mut pending_spans = self.buffered_spans;
        let mut pending_bytes = self.buffered_bytes;
        // Traces already marked will be freed at the next poll.
        for key in &self.overflowed {
            if let Some(trace) = self.open.get(key) {
                pending_spans -= trace.spans.len();
                pending_bytes -= trace.bytes;
            }
        }
        while pending_spans > self.limits.max_buffered_spans
            || pending_bytes > self.limits.max_buffered_bytes
        {
            let Some((seq, key)) = self.arrival.pop_front() else {
                break;
            };
            let Some(trace) = self.open.get_mut(&key) else {
                continue;
            };
            if trace.seq != seq || trace.overflow {
                continue;
            }
            trace.overflow = true;
            pending_spans -= trace.spans.len();
            pending_bytes -= trace.bytes;
            self.overflowed.push_back(key);
        }
    }

    /// The clock time at which the next trace becomes due (`None` when nothing is open).
    /// Traces closed for overflow are due now.
    pub fn next_due(&mut self) -> Option<u64> {
        if !self.overflowed.is_empty() {
            return Some(self.now);
        }
        while let Some(Reverse((due, seq, key))) = self.due.peek() {
            match self.open.get(key) {
                Some(trace) if trace.seq == *seq => {
                    let actual = trace.due(&self.limits);
                    if actual == *due {
                        return Some(*due);
                    }
                    let (seq, key) = (*seq, key.clone());
                    self.due.pop();
                    self.due.push(Reverse((actual, seq, key)));
                }
                _ => {
                    self.due.pop();
                }
            }
        }
        None
    }

    /// The next trace to close at clock time `now`: traces over a limit first, then the
    /// traces whose due time has passed, earliest first. `None` when nothing is due.
    pub fn poll(&mut self, now: u64) -> Option<Closed<K, S>> {
        let now = self.advance(now);
        while let Some(key) = self.overflowed.pop_front() {
            if let Some(closed) = self.take(&key, CloseReason::Overflow) {
                return Some(closed);
            }
        }
        loop {
            let due = self.next_due()?;
            if due > now {
                return None;
            }
            let Reverse((_, _, key)) = self.due.pop()?;
            let reason = match self.open.get(&key) {
                Some(trace)
                    if trace.root_seen
                        && trace.last_seen.saturating_add(self.limits.decision_wait)
                            <= trace.first_seen.saturating_add(self.limits.max_trace_age) =>
                {
                    CloseReason::Complete
                }
                Some(_) => CloseReason::Deadline,
                None => continue,
            };
            if let Some(closed) = self.take(&key, reason) {
                return Some(closed);
            }
        }
    }

    /// Closes every open trace (shutdown, end of input), oldest first.
    pub fn close_all(&mut self) -> Vec<Closed<K, S>> {
        let mut keys: Vec<(u64, K)> = self
            .open
            .iter()
            .map(|(key, trace)| (trace.seq, key.clone()))
            .collect();
        keys.sort_unstable();
        let closed = keys
            .into_iter()
            .filter_map(|(_, key)| self.take(&key, CloseReason::Flush))
            .collect();
        self.due.clear();
        self.arrival.clear();
        self.overflowed.clear();
        closed
    }

    fn take(&mut self, key: &K, reason: CloseReason) -> Option<Closed<K, S>> {
        let (key, trace) = self.open.remove_entry(key)?;
        self.buffered_spans -= trace.spans.len();
        self.buffered_bytes -= trace.bytes;
        match reason {
            CloseReason::Complete => self.stats.closed_complete += 1,
            CloseReason::Deadline => self.stats.closed_deadline += 1,
            CloseReason::Overflow => self.stats.closed_overflow += 1,
            CloseReason::Flush => self.stats.closed_flush += 1,
        }
        Some(Closed {
            key,
            spans: trace.spans,
            bytes: trace.bytes,
            reason,
            first_seen: trace.first_seen,
            root_seen: trace.root_seen,
        })
    }

    /// Remembers the decision for a closed trace, so that its late spans come back from
    /// [`Assembler::push`] as [`Pushed::Late`]. The oldest decision is forgotten when
    /// the cache is full.
    pub fn remember(&mut self, key: K, decision: D) {
        self.cache.insert(key, decision);
    }

    /// Whether a decision for `key` is remembered.
    pub fn decision(&self, key: &K) -> Option<&D> {
        self.cache.map.get(key)
    }

    /// Decisions forgotten to keep the cache bounded.
    pub fn forgotten_decisions(&self) -> u64 {
        self.cache.forgotten
    }

    /// Marks a trace closed for overflow as spilled: its later spans come back from
    /// [`Assembler::push`] as [`Pushed::Spilled`] (the file-mode hook; see the crate
    /// docs).
    pub fn mark_spilled(&mut self, key: K) {
        if self.spilled.insert(key.clone()) {
            self.spill_order.push(key);
        }
    }

    /// The spilled traces, in order of spilling.
    pub fn spilled(&self) -> &[K] {
        &self.spill_order
    }

    /// Forgets that a trace was spilled (the caller has read it back and decided it):
    /// a later span of its key opens a new trace.
    pub fn unspill(&mut self, key: &K) {
        if self.spilled.remove(key) {
            self.spill_order.retain(|spilled| spilled != key);
        }
    }
}

#[cfg(test)]
mod tests;
