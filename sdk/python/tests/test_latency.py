"""The runtime's own latency cases (runtime-sampler/src/latency.rs)."""

from autoscope_otel.latency import LatencyTracker
from autoscope_otel.policy import LatencyOverride


def tracker(window: int, min_samples: int, min_spread_ms: float = 1.0) -> LatencyTracker:
    return LatencyTracker(LatencyOverride(window, 6.0, min_samples, min_spread_ms))


def test_flags_a_spike_after_warm_up():
    latency = tracker(64, 16)
    for i in range(40):
        assert not latency.observe("GET /x", 10_000_000 + (i % 5) * 1_000_000)
    assert latency.observe("GET /x", 200_000_000)
    assert not latency.observe("GET /x", 12_000_000)
    assert not latency.observe("other", 900_000_000)


def test_constant_stream_uses_the_floor():
    latency = tracker(32, 8)
    for _ in range(32):
        latency.observe(0, 100_000)
    assert not latency.observe(0, 5_000_000)
    assert latency.observe(0, 7_000_000)


def test_a_lower_floor_catches_delays_of_fast_calls():
    for floor, flagged in ((1.0, False), (0.5, True)):
        latency = tracker(32, 8, floor)
        for _ in range(32):
            latency.observe("MongoDB/find", 500_000)
        assert latency.observe("MongoDB/find", 5_000_000) == flagged


def test_window_slides():
    latency = tracker(16, 8)
    for _ in range(16):
        latency.observe("n", 10_000_000)
    for _ in range(40):
        latency.observe("n", 100_000_000)
    assert not latency.observe("n", 101_000_000)
