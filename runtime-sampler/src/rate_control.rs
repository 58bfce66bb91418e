//! The rate controller: holds the kept share at the policy's promise on traffic the
//! policy did not foresee.
//!
//! A static policy keeps more than its target when traffic differs from what it was
//! derived from: ancestors of kept spans, latency outliers and error spans come on top
//! of the rules' rates. The controller measures the kept share over a window of event
//! time and moves one factor, the *rate scale*, that multiplies every `sample` rate
//! (capped at 1) — never a `keep` rule, never an override, never an ancestor — until the
//! kept share equals `1 - target_reduction`. Give the scale to the sampler with
//! [`crate::Sampler::set_rate_scale`]; the budget (spans per second) stays a hard cap on
//! top of it.
//!
//! Scaling every rate by one factor keeps a policy *monotone*: if a child's rate is at
//! most its parent's, `min(1, s·p_child) <= min(1, s·p_parent)` for every `s`, so
//! consistent sampling still never keeps a child whose parent's rule dropped the trace.
//!
//! The kept share is counted in whatever units the caller has: bytes where it knows
//! sizes (`serve` knows each span's protobuf length), else spans. Each window (default
//! 10 s of event time, and at least [`MIN_TRACES_PER_WINDOW`] traces, so a quiet stream
//! does not steer on noise) ends with a multiplicative step in log space:
//! `scale ← scale · (target / measured)`, the step clamped to [1/8, 8] and the scale to
//! [[`MIN_SCALE`], [`MAX_SCALE`]]. Where the kept share is `a + b·scale` (a fixed part
//! from `keep` rules and overrides, a scaled part), this map converges to the target
//! without overshoot, geometrically with ratio `a / target`; a change of traffic is met
//! the same way from the current scale. When the fixed part alone exceeds the target the
//! scale falls to its floor and the report shows why (the overrides keep more than the
//! promise allows).

/// Lowest rate scale.
pub const MIN_SCALE: f64 = 1e-6;
/// Highest rate scale (rates are capped at 1 whatever the scale).
pub const MAX_SCALE: f64 = 1e6;
/// Largest factor of one step, up or down.
const MAX_STEP: f64 = 8.0;
/// A window closes only once it has seen this many traces.
pub const MIN_TRACES_PER_WINDOW: u64 = 20;
/// Default window of event time.
pub const DEFAULT_WINDOW_NANOS: u64 = 10_000_000_000;

/// The controller's state; see the [module docs](self).
#[derive(Debug, Clone, PartialEq)]
pub struct RateController {
    target_kept_share: f64,
    window_nanos: u64,
    window_start: Option<u64>,
    units_in: f64,
    units_kept: f64,
    traces: u64,
    scale: f64,
    windows: u64,
    last_share: Option<f64>,
}

impl RateController {
    /// A controller holding the kept share at `target_kept_share` (`1 -
    /// target_reduction`, clamped to [0, 1]) over windows of `window_nanos` of event
    /// time.
    pub fn new(target_kept_share: f64, window_nanos: u64) -> Self {
        let target_kept_share = if target_kept_share.is_nan() {
            1.0
        } else {
            target_kept_share.clamp(0.0, 1.0)
        };
        Self {
            target_kept_share,
            window_nanos: window_nanos.max(1),
            window_start: None,
            units_in: 0.0,
            units_kept: 0.0,
            traces: 0,
            scale: 1.0,
            windows: 0,
            last_share: None,
        }
    }

    /// The controller for `policy`: its target reduction, the default window.
    pub fn for_policy(policy: &policy_schema::Policy) -> Self {
        Self::new(1.0 - policy.target_reduction, DEFAULT_WINDOW_NANOS)
    }

    /// The target kept share.
    pub fn target_kept_share(&self) -> f64 {
        self.target_kept_share
    }

    /// The factor on `sample` rates.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Windows closed so far.
    pub fn windows(&self) -> u64 {
        self.windows
    }

    /// The kept share measured in the last closed window.
    pub fn last_share(&self) -> Option<f64> {
        self.last_share
    }

    /// Records one decided trace (or any batch of decisions) at event time `time` (Unix
    /// ns): `units_in` offered, `units_kept` kept. Returns the scale to use from now on.
    pub fn observe(&mut self, time: u64, units_in: f64, units_kept: f64) -> f64 {
        let start = *self.window_start.get_or_insert(time);
        if time >= start.saturating_add(self.window_nanos)
            && self.traces >= MIN_TRACES_PER_WINDOW
            && self.units_in > 0.0
        {
            self.close_window();
            self.window_start = Some(time);
        }
        if units_in.is_finite() && units_kept.is_finite() && units_in >= 0.0 {
            self.units_in += units_in;
            self.units_kept += units_kept.clamp(0.0, units_in);
            self.traces += 1;
        }
        self.scale
    }

    fn close_window(&mut self) {
        let measured = self.units_kept / self.units_in;
        self.last_share = Some(measured);
        self.windows += 1;
        let step = if measured <= 0.0 {
            MAX_STEP
        } else {
            (self.target_kept_share / measured).clamp(1.0 / MAX_STEP, MAX_STEP)
        };
        self.scale = (self.scale * step).clamp(MIN_SCALE, MAX_SCALE);
        self.units_in = 0.0;
        self.units_kept = 0.0;
        self.traces = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Traffic whose kept share is `fixed + scaled · min(1, scale · rate)`.
    fn run(controller: &mut RateController, seconds: u64, fixed: f64, scaled: f64, rate: f64) {
        for second in 0..seconds {
            for i in 0..100u64 {
                let time = second * 1_000_000_000 + i * 10_000_000;
                let kept = fixed + scaled * (controller.scale() * rate).min(1.0);
                controller.observe(time, 1.0, kept);
            }
        }
    }

    #[test]
    fn converges_to_the_target_within_a_few_windows() {
        // 5% kept whatever the scale (keep rules, errors), 90% of the traffic sampled at
        // 0.4: 41% kept against a 10% target.
        let mut controller = RateController::new(0.10, 1_000_000_000);
        let mut times = 0..;
        let mut feed = |controller: &mut RateController, windows: u64| {
            for _ in 0..windows * 100 {
                let t = times.next().unwrap_or(0) * 10_000_000;
                let kept = 0.05 + 0.9 * (controller.scale() * 0.4).min(1.0);
                controller.observe(t, 1.0, kept);
            }
        };
        feed(&mut controller, 6);
        let share = 0.05 + 0.9 * (controller.scale() * 0.4).min(1.0);
        assert!((share - 0.10).abs() < 0.005, "share {share}");
        // Traffic changes: the sampled part doubles; the controller follows.
        let mut times2 = 600..;
        for _ in 0..600 {
            let t = times2.next().unwrap_or(0) * 10_000_000;
            let kept = 0.05 + 0.9 * (controller.scale() * 0.8).min(1.0);
            controller.observe(t, 1.0, kept);
        }
        let share = 0.05 + 0.9 * (controller.scale() * 0.8).min(1.0);
        assert!((share - 0.10).abs() < 0.005, "share after change {share}");
    }

    #[test]
    fn raises_rates_when_too_little_is_kept() {
        let mut controller = RateController::new(0.5, 1_000_000_000);
        run(&mut controller, 10, 0.0, 1.0, 0.1);
        assert!(
            (controller.scale() * 0.1 - 0.5).abs() < 0.01,
            "{}",
            controller.scale()
        );
    }

    #[test]
    fn a_fixed_part_above_the_target_floors_the_scale() {
        let mut controller = RateController::new(0.1, 1_000_000_000);
        run(&mut controller, 40, 0.2, 0.5, 0.5);
        assert!(controller.scale() < 1e-3, "{}", controller.scale());
        assert!(controller.scale() >= MIN_SCALE);
    }

    #[test]
    fn quiet_windows_do_not_steer() {
        let mut controller = RateController::new(0.1, 1_000_000_000);
        // One trace every 2 s: windows close only every 20 traces.
        for i in 0..19u64 {
            controller.observe(i * 2_000_000_000, 1.0, 1.0);
        }
        assert_eq!(controller.windows(), 0);
        assert_eq!(controller.scale(), 1.0);
        controller.observe(40_000_000_000, 1.0, 1.0);
        controller.observe(41_000_000_000, 1.0, 1.0);
        assert_eq!(controller.windows(), 1);
        assert!(controller.scale() < 1.0);
    }

    #[test]
    fn bad_input_is_ignored() {
        let mut controller = RateController::new(f64::NAN, 1);
        assert_eq!(controller.target_kept_share(), 1.0);
        controller.observe(0, f64::NAN, 1.0);
        controller.observe(0, -1.0, 1.0);
        assert_eq!(controller.scale(), 1.0);
    }
}
