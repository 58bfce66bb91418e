"""The latency override, as the runtime applies it (runtime-sampler/src/latency.rs).

Keep a span whose duration is an outlier for its kind. Per key a ring buffer holds the
last ``window`` durations; the key is the matcher that decided the span when it was an
exact or template matcher (so ``/orders/1`` and ``/orders/2`` share a template's
window), else the span name. Once ``min_samples`` durations were seen, a span is an
outlier when its duration exceeds ``median + threshold * spread``, ``spread =
max(1.4826 * MAD, median / 20, min_spread_ms)``, computed against the durations before
it and recomputed every ``max(1, window // 2)`` spans.
"""

from __future__ import annotations

import threading

from .policy import LatencyOverride

_MAD_SCALE = 1.4826
_MIN_SPREAD_OF_MEDIAN = 0.05
MAX_TRACKED_KEYS = 100_000
"""Windows tracked at most (names may be high-cardinality and untemplated)."""
_U64_MAX = (1 << 64) - 1


class _Window:
    __slots__ = ("durations", "limit", "next", "since_recompute")

    def __init__(self) -> None:
        self.durations: list[int] = []
        self.next = 0
        self.since_recompute = 0
        self.limit: int | None = None


def _upper_median(values: list[int]) -> int:
    return sorted(values)[len(values) // 2]


class LatencyTracker:
    """Sliding windows of recent durations, in nanoseconds."""

    def __init__(self, config: LatencyOverride) -> None:
        self.window = max(config.window, 1)
        self.threshold = config.threshold
        self.min_samples = max(config.min_samples, 1)
        self.min_spread_nanos = config.min_spread_ms * 1_000_000.0
        self.recompute_every = max(self.window // 2, 1)
        self._windows: dict[object, _Window] = {}
        self._lock = threading.Lock()

    def observe(self, key: object, nanos: int) -> bool:
        """Records a duration under key and says whether it is an outlier."""
        with self._lock:
            window = self._windows.get(key)
            if window is None:
                if len(self._windows) >= MAX_TRACKED_KEYS:
                    return False
                window = self._windows[key] = _Window()
            outlier = window.limit is not None and nanos > window.limit
            if len(window.durations) < self.window:
                window.durations.append(nanos)
            else:
                window.durations[window.next] = nanos
                window.next = (window.next + 1) % self.window
            window.since_recompute += 1
            if len(window.durations) >= self.min_samples and (
                window.limit is None or window.since_recompute >= self.recompute_every
            ):
                window.limit = self._limit(window.durations)
                window.since_recompute = 0
            return outlier

    def _limit(self, durations: list[int]) -> int:
        median = _upper_median(durations)
        mad = _upper_median([abs(d - median) for d in durations])
        spread = max(_MAD_SCALE * mad, _MIN_SPREAD_OF_MEDIAN * median, self.min_spread_nanos)
        limit = median + self.threshold * spread
        return _U64_MAX if limit >= _U64_MAX else int(limit)
