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

use ahash::AHashMap;
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

#[derive(Debug, Default)]
struct ServiceWindows {
    by_name: AHashMap<Box<str>, Window>,
    by_matcher: AHashMap<u32, Window>,
}

/// Sliding windows of recent durations.
#[derive(Debug)]
pub struct LatencyTracker {
    config: LatencyOverride,
    recompute_every: usize,
    /// Windows of service-specific matchers, by dense matcher id.
    by_service_matcher: Vec<Option<Window>>,
    services: AHashMap<Box<str>, ServiceWindows>,
    tracked: usize,
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
            services: AHashMap::new(),
            tracked: 0,
            scratch: Vec::new(),
        }
    }

    /// Records `duration` under the key and says whether it is an outlier against the
    /// durations seen before it.
    pub fn observe(&mut self, service: &str, key: LatencyKey<'_>, duration: u64) -> bool {
        if let LatencyKey::ServiceMatcher(id) = key {
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
        let windows = match self.services.get_mut(service) {
            Some(windows) => windows,
            None if self.tracked < MAX_TRACKED_KEYS => {
                self.services.entry(service.into()).or_default()
            }
            None => return false,
        };
        let window = match key {
            LatencyKey::Name(name) => match windows.by_name.get_mut(name) {
                Some(window) => window,
                None if self.tracked < MAX_TRACKED_KEYS => {
                    self.tracked += 1;
                    windows
                        .by_name
                        .entry(name.into())
                        .or_insert_with(Window::new)
                }
                None => return false,
            },
            LatencyKey::Matcher(id) | LatencyKey::ServiceMatcher(id) => {
                match windows.by_matcher.get_mut(&id) {
                    Some(window) => window,
                    None if self.tracked < MAX_TRACKED_KEYS => {
                        self.tracked += 1;
                        windows.by_matcher.entry(id).or_insert_with(Window::new)
                    }
                    None => return false,
                }
            }
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
