//! The budget controller: scales `sample` rates down when the sampled share would exceed
//! `budget.spans_per_second`, and back up when the load falls.
//!
//! Time is event time: the start times of the spans fed in, in one-second buckets, so
//! replaying a file decides exactly as the live stream did, at any replay speed. The
//! controller measures the *demand* of each bucket (the sum of the unscaled rates of the
//! spans decided by `sample` rules: the expected kept count at full rate) and, when a
//! bucket closes, updates an exponentially smoothed demand `D` (weight 1/2 on the new
//! bucket; an empty second counts as zero demand). The scale applied to rates is
//! `min(1, budget / max(D, demand so far in the current bucket))`: the smoothed term
//! holds the rate down through a sustained load, the in-bucket term reacts within the
//! first second of a burst (it admits about `budget * (1 + ln(demand / budget))` spans in
//! that second instead of the whole burst). So the expected kept rate is about the
//! budget under load and the unscaled rate when calm. `keep` rules, overrides and
//! ancestors are never scaled.
//!
//! Spans older than the current bucket (out of order) count toward the current bucket.

/// One bucket of event time.
const BUCKET_NANOS: u64 = 1_000_000_000;
/// Weight of the newest bucket in the smoothed demand.
const SMOOTHING: f64 = 0.5;
/// After this many empty buckets the smoothed demand is taken as zero.
const FORGET_AFTER_BUCKETS: u64 = 64;

/// The controller's state.
#[derive(Debug, Clone)]
pub struct BudgetController {
    spans_per_second: f64,
    bucket_start: Option<u64>,
    bucket_demand: f64,
    smoothed_demand: f64,
    scale: f64,
}

impl BudgetController {
    /// A controller aiming at `spans_per_second` (positive).
    pub fn new(spans_per_second: f64) -> Self {
        Self {
            spans_per_second,
            bucket_start: None,
            bucket_demand: 0.0,
            smoothed_demand: 0.0,
            scale: 1.0,
        }
    }

    /// The current factor on `sample` rates, in (0, 1].
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Advances the clock to `time` (Unix ns) and returns the scale to apply to a span
    /// starting then. Call [`BudgetController::record`] for spans decided by a `sample`
    /// rule.
    pub fn advance(&mut self, time: u64) -> f64 {
        let start = *self.bucket_start.get_or_insert(time - time % BUCKET_NANOS);
        if time >= start.saturating_add(BUCKET_NANOS) {
            // At least 1 even where `start + BUCKET_NANOS` saturated at the end of time.
            let elapsed = ((time - start) / BUCKET_NANOS).max(1);
            self.smoothed_demand =
                SMOOTHING * self.bucket_demand + (1.0 - SMOOTHING) * self.smoothed_demand;
            if elapsed > FORGET_AFTER_BUCKETS {
                self.smoothed_demand = 0.0;
            } else {
                self.smoothed_demand *= (1.0 - SMOOTHING).powi((elapsed - 1) as i32);
            }
            self.bucket_start = Some(start.saturating_add(elapsed.saturating_mul(BUCKET_NANOS)));
            self.bucket_demand = 0.0;
        }
        let demand = self.smoothed_demand.max(self.bucket_demand);
        self.scale = if demand > self.spans_per_second {
            self.spans_per_second / demand
        } else {
            1.0
        };
        self.scale
    }

    /// Counts the demand of one span decided by a `sample` rule at unscaled `rate`.
    pub fn record(&mut self, rate: f64) {
        self.bucket_demand += rate;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_down_under_load_and_recovers() {
        let mut controller = BudgetController::new(100.0);
        // 1000 spans/s at rate 0.5: demand 500/s against a budget of 100.
        for second in 0..10u64 {
            for i in 0..1000u64 {
                controller.advance(second * BUCKET_NANOS + i * 1_000_000);
                controller.record(0.5);
            }
        }
        assert!(
            (controller.scale() - 0.2).abs() < 0.01,
            "{}",
            controller.scale()
        );
        // Calm: 10 spans/s.
        for second in 10..20u64 {
            for i in 0..10u64 {
                controller.advance(second * BUCKET_NANOS + i * 100_000_000);
                controller.record(0.5);
            }
        }
        assert_eq!(controller.scale(), 1.0);
    }

    #[test]
    fn long_gap_forgets_the_load() {
        let mut controller = BudgetController::new(10.0);
        for i in 0..1000u64 {
            controller.advance(i * 1_000_000);
            controller.record(1.0);
        }
        assert!(controller.advance(BUCKET_NANOS) < 1.0);
        assert_eq!(controller.advance(BUCKET_NANOS * 10_000), 1.0);
        // Out-of-order times do not move the clock back.
        assert_eq!(controller.advance(0), 1.0);
        // The end of time does not overflow.
        assert_eq!(controller.advance(u64::MAX), 1.0);
        assert_eq!(controller.advance(u64::MAX), 1.0);
    }
}
