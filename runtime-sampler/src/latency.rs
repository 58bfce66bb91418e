//! The latency override: keep a span whose duration is an outlier for its kind.
//!
//! Per key a ring buffer holds the last `window` durations. The key is the (service,
//! span name) pair, except that a span decided by an `exact` or `template` matcher is
//! keyed by (service, matcher): for a template that makes `/orders/1` and `/orders/2`
//! share one window, and for a rule naming its service the matcher alone identifies the
//! key, so its window is found by index without hashing any string.
//!
//! A span is an outlier when, once `min_samples` durations were seen,
//! `duration > median + threshold * spread`, where
//! `spread = max(1.4826 * MAD, median / 20, min_spread_ms)`: 1.4826 scales the median
//! absolute deviation to a standard deviation for normal data; the floors keep a
//! constant stream (MAD = 0) or tiny jitter from flagging every small wobble.
//!
//! Cost: median and MAD are computed (O(window), with `select_nth_unstable`) when
//! `min_samples` is first reached and then every `max(1, window / 2)` spans, so the
//! amortized cost per span is O(1), a few element moves, and the check itself is
//! one comparison against the cached limit. The limit is thus at most half a window
//! stale, which a sliding window tolerates by design.

use crate::matcher::bytes_eq;
use policy_schema::LatencyOverride;

/// Scales a MAD to a standard deviation under normality.
const MAD_SCALE: f64 = 1.4826;
/// The spread is at least this share of the median.
const MIN_SPREAD_OF_MEDIAN: f64 = 0.05;
/// Nanoseconds per millisecond, for the policy's `min_spread_ms`.
const NANOS_PER_MS: f64 = 1_000_000.0;
/// Windows tracked per sampler; keys beyond it get no latency override (bounds memory
/// when names are high-cardinality and untemplated).
pub const MAX_TRACKED_KEYS: usize = 100_000;

/// What a latency window is keyed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LatencyKey<'a> {
    /// The span name, within the span's service.
    Name(&'a str),
    /// A matcher (its dense id) of a service-less rule, within the span's service.
    Matcher(u32),
    /// A matcher (its dense id) of a rule naming a service: the service is implied.
    ServiceMatcher(u32),
}

impl<'a> LatencyKey<'a> {
    /// The key of a span named `name` that `found` decided (`None`: the default): spans
    /// decided by an `exact` or `template` matcher share their matcher's window, others
    /// are keyed by name.
    pub fn for_match(found: Option<crate::RuleMatch>, name: &'a str) -> Self {
        use crate::MatchKind;
        match found {
            Some(m) if m.kind == MatchKind::Exact || m.kind == MatchKind::Template => {
                if m.service_specific {
                    Self::ServiceMatcher(m.matcher_id)
                } else {
                    Self::Matcher(m.matcher_id)
                }
            }
            _ => Self::Name(name),
        }
    }
}

/// Sliding windows of recent durations.
#[derive(Debug)]
pub struct LatencyTracker {
    config: LatencyOverride,
    recompute_every: usize,
    /// Windows of service-specific matchers, by dense matcher id.
    by_service_matcher: Vec<Option<Window>>,
    /// Windows keyed by (service, name) or (service, matcher), in one table.
    keyed: KeyedWindows,
    /// Reused by every recomputation, which would otherwise allocate a window's worth.
    scratch: Vec<u64>,
}

#[derive(Debug)]
struct Window {
    durations: Vec<u64>,
    next: usize,
    since_recompute: usize,
    /// Durations above this are outliers; `None` until `min_samples` were seen.
    limit: Option<u64>,
}

/// The windows keyed on the span's service and its name or service-less matcher: one
/// open-addressing table (linear probing, at most half full) hashed once per span over
/// both parts, where two nested string maps hashed the service and the name separately
/// and compared each key through `memcmp`. Keys come from traffic, so the hash is seeded
/// per tracker (ahash's random state): no input can be crafted to collide.
#[derive(Debug)]
struct KeyedWindows {
    /// Power-of-two many slots: 0 is empty, `i + 1` points at `entries[i]`.
    slots: Vec<u32>,
    entries: Vec<KeyedWindow>,
    /// Every key's service and name bytes, back to back.
    text: Vec<u8>,
    hasher: ahash::RandomState,
}

#[derive(Debug)]
struct KeyedWindow {
    hash: u64,
    /// `text[service_start..name_start]` is the service, `text[name_start..end]` the name
    /// (empty for a matcher key).
    service_start: usize,
    name_start: usize,
    end: usize,
    /// The matcher id, or `NAME_KEY` for a key by name.
    matcher: u64,
    window: Window,
}

/// `KeyedWindow::matcher` of a window keyed by name (matcher ids are `u32`).
const NAME_KEY: u64 = u64::MAX;

impl KeyedWindows {
    fn new() -> Self {
        Self {
            slots: vec![0; 16],
            entries: Vec::new(),
            text: Vec::new(),
            hasher: ahash::RandomState::new(),
        }
    }

    fn hash(&self, service: &str, name: &str, matcher: u64) -> u64 {
        self.hasher
            .hash_one((service.as_bytes(), name.as_bytes(), matcher))
    }

    /// The window of the key, created when absent and `may_add` allows it.
    fn get_or_add(
        &mut self,
        service: &str,
        name: &str,
        matcher: u64,
        may_add: bool,
    ) -> Option<&mut Window> {
        let hash = self.hash(service, name, matcher);
        let mask = self.slots.len() - 1;
        let mut slot = hash as usize & mask;
        while let Some(index) = (self.slots[slot] as usize).checked_sub(1) {
            let entry = &self.entries[index];
            if entry.hash == hash
                && entry.matcher == matcher
                && bytes_eq(
                    &self.text[entry.service_start..entry.name_start],
                    service.as_bytes(),
                )
                && bytes_eq(&self.text[entry.name_start..entry.end], name.as_bytes())
            {
                return Some(&mut self.entries[index].window);
            }
            slot = (slot + 1) & mask;
        }
        if !may_add {
            return None;
        }
        let service_start = self.text.len();
        self.text.extend_from_slice(service.as_bytes());
        let name_start = self.text.len();
        self.text.extend_from_slice(name.as_bytes());
        self.entries.push(KeyedWindow {
            hash,
            service_start,
            name_start,
            end: self.text.len(),
            matcher,
            window: Window::new(),
        });
        let index = self.entries.len() - 1;
        self.slots[slot] = self.entries.len() as u32;
        if self.entries.len() * 2 > self.slots.len() {
            self.grow();
        }
        Some(&mut self.entries[index].window)
    }

    /// Doubles the slots and reinserts every key by its stored hash.
    fn grow(&mut self) {
        let slot_count = self.slots.len() * 2;
        let mask = slot_count - 1;
        self.slots.clear();
        self.slots.resize(slot_count, 0);
        for (index, entry) in self.entries.iter().enumerate() {
            let mut slot = entry.hash as usize & mask;
            while self.slots[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = index as u32 + 1;
        }
    }
}

impl LatencyTracker {
    /// A tracker with the policy's settings (`window` is at least 1), for a policy with
    /// `matcher_count` matchers in all.
    pub fn new(config: &LatencyOverride, matcher_count: usize) -> Self {
        let window = config.window.max(1) as usize;
        Self {
            config: LatencyOverride {
                window: window as u32,
                ..config.clone()
            },
            recompute_every: (window / 2).max(1),
            by_service_matcher: std::iter::repeat_with(|| None)
                .take(matcher_count)
                .collect(),
            keyed: KeyedWindows::new(),
            scratch: Vec::new(),
        }
    }

    /// Records `duration` under the key and says whether it is an outlier against the
    /// durations seen before it.
    pub fn observe(&mut self, service: &str, key: LatencyKey<'_>, duration: u64) -> bool {
        let (name, matcher) = match key {
            LatencyKey::ServiceMatcher(id) => {
                let id = id as usize;
                if id >= self.by_service_matcher.len() {
                    self.by_service_matcher.resize_with(id + 1, || None);
                }
                let window = self.by_service_matcher[id].get_or_insert_with(Window::new);
                return window.observe(
                    duration,
                    &self.config,
                    self.recompute_every,
                    &mut self.scratch,
                );
            }
            LatencyKey::Name(name) => (name, NAME_KEY),
            LatencyKey::Matcher(id) => ("", u64::from(id)),
        };
        let may_add = self.keyed.entries.len() < MAX_TRACKED_KEYS;
        let Some(window) = self.keyed.get_or_add(service, name, matcher, may_add) else {
            return false;
        };
        window.observe(
            duration,
            &self.config,
            self.recompute_every,
            &mut self.scratch,
        )
    }
}

impl Window {
    fn new() -> Self {
        Self {
            durations: Vec::new(),
            next: 0,
            since_recompute: 0,
            limit: None,
        }
    }

    fn observe(
        &mut self,
        duration: u64,
        config: &LatencyOverride,
        recompute_every: usize,
        scratch: &mut Vec<u64>,
    ) -> bool {
        let outlier = self.limit.is_some_and(|limit| duration > limit);
        let capacity = config.window as usize;
        if self.durations.len() < capacity {
            self.durations.push(duration);
        } else {
            self.durations[self.next] = duration;
            self.next += 1;
            if self.next == capacity {
                self.next = 0;
            }
        }
        self.since_recompute += 1;
        let enough = self.durations.len() >= (config.min_samples as usize).max(1);
        if enough && (self.limit.is_none() || self.since_recompute >= recompute_every) {
            self.limit = Some(outlier_limit(
                &self.durations,
                scratch,
                config.threshold,
                config.min_spread_ms * NANOS_PER_MS,
            ));
            self.since_recompute = 0;
        }
        outlier
    }
}

/// `median + threshold * spread` over `durations` (not empty), the spread at least
/// `min_spread_nanos`.
fn outlier_limit(
    durations: &[u64],
    scratch: &mut Vec<u64>,
    threshold: f64,
    min_spread_nanos: f64,
) -> u64 {
    scratch.clear();
    scratch.extend_from_slice(durations);
    let median = median_of(scratch);
    for (slot, &d) in scratch.iter_mut().zip(durations) {
        *slot = d.abs_diff(median);
    }
    let mad = median_of(scratch);
    let median = median as f64;
    let spread = (MAD_SCALE * mad as f64)
        .max(MIN_SPREAD_OF_MEDIAN * median)
        .max(min_spread_nanos);
    let limit = median + threshold * spread;
    if limit >= u64::MAX as f64 {
        u64::MAX
    } else {
        limit as u64
    }
}

/// The upper median (reorders `values`).
fn median_of(values: &mut [u64]) -> u64 {
    let middle = values.len() / 2;
    *values.select_nth_unstable(middle).1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(window: u32, min_samples: u32) -> LatencyOverride {
        LatencyOverride {
            window,
            threshold: 6.0,
            min_samples,
            min_spread_ms: 1.0,
        }
    }

    #[test]
    fn flags_a_spike_after_warm_up() {
        let mut tracker = LatencyTracker::new(&config(64, 16), 0);
        let key = LatencyKey::Name("GET /x");
        // 10 ms +- 2 ms, then a 200 ms spike.
        for i in 0..40u64 {
            assert!(!tracker.observe("svc", key, 10_000_000 + (i % 5) * 1_000_000));
        }
        assert!(tracker.observe("svc", key, 200_000_000));
        assert!(!tracker.observe("svc", key, 12_000_000));
        // Another service, same name: its own window, not warmed up.
        assert!(!tracker.observe("other", key, 900_000_000));
    }

    #[test]
    fn constant_stream_uses_the_floor() {
        let mut tracker = LatencyTracker::new(&config(32, 8), 0);
        let key = LatencyKey::Matcher(0);
        for _ in 0..32 {
            tracker.observe("svc", key, 100_000);
        }
        // MAD is 0; the 1 ms floor means 6 ms above the median is needed.
        assert!(!tracker.observe("svc", key, 5_000_000));
        assert!(tracker.observe("svc", key, 7_000_000));
    }

    #[test]
    fn a_lower_floor_catches_delays_of_fast_calls() {
        // A steady 0.5 ms call (MAD 0) delayed to 5 ms: under the 1 ms floor's limit of
        // 6.5 ms, over the 0.5 ms floor's limit of 3.5 ms.
        for (min_spread_ms, flagged) in [(1.0, false), (0.5, true)] {
            let mut tracker = LatencyTracker::new(
                &LatencyOverride {
                    min_spread_ms,
                    ..config(32, 8)
                },
                0,
            );
            let key = LatencyKey::Name("MongoDB/find");
            for _ in 0..32 {
                tracker.observe("svc", key, 500_000);
            }
            assert_eq!(tracker.observe("svc", key, 5_000_000), flagged);
        }
    }

    /// Durations, spans since the last recomputation, limit.
    type ReferenceWindow = (Vec<u64>, usize, Option<u64>);

    /// The tracker as the module docs define it, written plainly: per key a queue of
    /// the last `window` durations, the limit recomputed by sorting.
    struct Reference {
        config: LatencyOverride,
        windows: std::collections::HashMap<(String, String), ReferenceWindow>,
    }

    impl Reference {
        fn observe(&mut self, service: &str, key: LatencyKey<'_>, duration: u64) -> bool {
            let key_text = match key {
                LatencyKey::Name(name) => format!("name {name}"),
                LatencyKey::Matcher(id) => format!("matcher {id}"),
                LatencyKey::ServiceMatcher(id) => format!("service matcher {id}"),
            };
            let service = match key {
                LatencyKey::ServiceMatcher(_) => String::new(),
                _ => service.to_string(),
            };
            let tracked = self.windows.len();
            let window_len = self.config.window as usize;
            let (durations, since, limit) = match self.windows.entry((service, key_text)) {
                std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) if tracked < MAX_TRACKED_KEYS => {
                    v.insert((Vec::new(), 0, None))
                }
                std::collections::hash_map::Entry::Vacant(_) => return false,
            };
            let outlier = limit.is_some_and(|l| duration > l);
            durations.push(duration);
            if durations.len() > window_len {
                durations.remove(0);
            }
            *since += 1;
            let enough = durations.len() >= (self.config.min_samples as usize).max(1);
            if enough && (limit.is_none() || *since >= (window_len / 2).max(1)) {
                let mut sorted = durations.clone();
                sorted.sort_unstable();
                let median = sorted[sorted.len() / 2];
                let mut deviations: Vec<u64> = sorted.iter().map(|d| d.abs_diff(median)).collect();
                deviations.sort_unstable();
                let mad = deviations[deviations.len() / 2] as f64;
                let spread = (MAD_SCALE * mad)
                    .max(MIN_SPREAD_OF_MEDIAN * median as f64)
                    .max(self.config.min_spread_ms * NANOS_PER_MS);
                let value = median as f64 + self.config.threshold * spread;
                *limit = Some(if value >= u64::MAX as f64 {
                    u64::MAX
                } else {
                    value as u64
                });
                *since = 0;
            }
            outlier
        }
    }

    #[test]
    fn agrees_with_the_plain_definition_over_many_keys() {
        let config = config(24, 6);
        let mut tracker = LatencyTracker::new(&config, 8);
        let mut reference = Reference {
            config,
            windows: Default::default(),
        };
        let names: Vec<String> = (0..300).map(|i| format!("op{i}")).collect();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut flagged = 0;
        for step in 0..200_000u64 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let service = ["a", "b", ""][(state % 3) as usize];
            let key = match (state >> 8) % 4 {
                0 => LatencyKey::Matcher(((state >> 16) % 12) as u32),
                1 => LatencyKey::ServiceMatcher(((state >> 16) % 12) as u32),
                _ => LatencyKey::Name(&names[((state >> 16) % 300) as usize]),
            };
            // Each key has its own level, so keys mixed up would show as outliers.
            let level = 1_000_000 * (1 + (state >> 16) % 300);
            let duration = if (state >> 40).is_multiple_of(50) {
                level * 20
            } else {
                level + (state >> 32) % 300_000
            };
            let got = tracker.observe(service, key, duration);
            assert_eq!(
                got,
                reference.observe(service, key, duration),
                "step {step}"
            );
            flagged += usize::from(got);
        }
        assert!(
            flagged > 100,
            "only {flagged} outliers: the stream tests nothing"
        );
    }

    #[test]
    fn keys_beyond_the_limit_get_no_override() {
        let mut tracker = LatencyTracker::new(&config(8, 1), 0);
        let names: Vec<String> = (0..=MAX_TRACKED_KEYS).map(|i| i.to_string()).collect();
        for name in &names[..MAX_TRACKED_KEYS] {
            tracker.observe("s", LatencyKey::Name(name), 1_000_000);
        }
        // A tracked key still flags a spike; the key past the limit never does.
        assert!(tracker.observe("s", LatencyKey::Name(&names[0]), 900_000_000));
        let past = LatencyKey::Name(&names[MAX_TRACKED_KEYS]);
        for _ in 0..4 {
            assert!(!tracker.observe("s", past, 1_000_000));
        }
        assert!(!tracker.observe("s", past, 900_000_000));
    }

    #[test]
    fn window_slides() {
        let mut tracker = LatencyTracker::new(&config(16, 8), 0);
        let key = LatencyKey::Name("n");
        for _ in 0..16 {
            tracker.observe("s", key, 10_000_000);
        }
        // The level moves to 100 ms; after a full window it is normal.
        for _ in 0..40 {
            tracker.observe("s", key, 100_000_000);
        }
        assert!(!tracker.observe("s", key, 101_000_000));
    }
}
