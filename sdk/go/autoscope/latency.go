package autoscope

import (
	"math"
	"slices"
	"sync"
)

// The latency override, as the runtime applies it (runtime-sampler/src/latency.rs):
// keep a span whose duration is an outlier for its kind. Per key a ring buffer holds
// the last `window` durations; the key is the matcher that decided the span when it
// was an exact or template matcher (so /orders/1 and /orders/2 share a template's
// window), else the span name. Once `min_samples` durations were seen, a span is an
// outlier when its duration exceeds median + threshold * spread, spread =
// max(1.4826 * MAD, median / 20, min_spread_ms), computed against the durations before
// it and recomputed every max(1, window / 2) spans.

const (
	madScale          = 1.4826
	minSpreadOfMedian = 0.05
	// maxTrackedKeys bounds the windows (names may be high-cardinality and untemplated).
	maxTrackedKeys = 100_000
)

type latencyConfig struct {
	window         int
	threshold      float64
	minSamples     int
	minSpreadNanos float64
}

// defaultLatency is the override a policy without an overrides object has.
var defaultLatency = latencyConfig{window: 256, threshold: 6, minSamples: 32, minSpreadNanos: 0.5e6}

type latencyTracker struct {
	config         latencyConfig
	recomputeEvery int

	mu        sync.Mutex
	byMatcher map[int]*latencyWindow
	byName    map[string]*latencyWindow
	scratch   []uint64
}

type latencyWindow struct {
	durations      []uint64
	next           int
	sinceRecompute int
	// limit: durations above it are outliers; valid once hasLimit.
	limit    uint64
	hasLimit bool
}

func newLatencyTracker(config latencyConfig) *latencyTracker {
	config.window = max(config.window, 1)
	return &latencyTracker{
		config:         config,
		recomputeEvery: max(config.window/2, 1),
		byMatcher:      map[int]*latencyWindow{},
		byName:         map[string]*latencyWindow{},
	}
}

// observe records a duration under the span's key (matcher >= 0: that matcher's
// window, else the name's) and reports whether it is an outlier.
func (t *latencyTracker) observe(matcher int, name string, nanos uint64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	var window *latencyWindow
	if matcher >= 0 {
		window = t.byMatcher[matcher]
	} else {
		window = t.byName[name]
	}
	if window == nil {
		if len(t.byMatcher)+len(t.byName) >= maxTrackedKeys {
			return false
		}
		window = &latencyWindow{}
		if matcher >= 0 {
			t.byMatcher[matcher] = window
		} else {
			t.byName[name] = window
		}
	}
	return t.observeIn(window, nanos)
}

func (t *latencyTracker) observeIn(w *latencyWindow, nanos uint64) bool {
	outlier := w.hasLimit && nanos > w.limit
	if len(w.durations) < t.config.window {
		w.durations = append(w.durations, nanos)
	} else {
		w.durations[w.next] = nanos
		w.next = (w.next + 1) % t.config.window
	}
	w.sinceRecompute++
	enough := len(w.durations) >= max(t.config.minSamples, 1)
	if enough && (!w.hasLimit || w.sinceRecompute >= t.recomputeEvery) {
		w.limit = t.outlierLimit(w.durations)
		w.hasLimit = true
		w.sinceRecompute = 0
	}
	return outlier
}

// outlierLimit is median + threshold * spread over durations (not empty).
func (t *latencyTracker) outlierLimit(durations []uint64) uint64 {
	t.scratch = append(t.scratch[:0], durations...)
	median := upperMedian(t.scratch)
	for i, d := range durations {
		if d > median {
			t.scratch[i] = d - median
		} else {
			t.scratch[i] = median - d
		}
	}
	mad := upperMedian(t.scratch)
	spread := math.Max(math.Max(madScale*float64(mad), minSpreadOfMedian*float64(median)), t.config.minSpreadNanos)
	limit := float64(median) + t.config.threshold*spread
	if limit >= math.MaxUint64 {
		return math.MaxUint64
	}
	return uint64(limit)
}

// upperMedian is the element at len/2 in sorted order (it sorts values).
func upperMedian(values []uint64) uint64 {
	slices.Sort(values)
	return values[len(values)/2]
}
