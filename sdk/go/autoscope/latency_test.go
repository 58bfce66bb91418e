package autoscope

import "testing"

// The runtime's own cases (runtime-sampler/src/latency.rs).

func testLatency(window, minSamples int, minSpreadMs float64) *latencyTracker {
	return newLatencyTracker(latencyConfig{window: window, threshold: 6, minSamples: minSamples, minSpreadNanos: minSpreadMs * 1e6})
}

func TestLatencyFlagsASpikeAfterWarmUp(t *testing.T) {
	tracker := testLatency(64, 16, 1)
	for i := range uint64(40) {
		if tracker.observe(-1, "GET /x", 10_000_000+(i%5)*1_000_000) {
			t.Fatalf("span %d flagged during warm-up", i)
		}
	}
	if !tracker.observe(-1, "GET /x", 200_000_000) {
		t.Error("a 200 ms spike over 10 ms +- 2 ms was not flagged")
	}
	if tracker.observe(-1, "GET /x", 12_000_000) {
		t.Error("a normal span was flagged")
	}
	if tracker.observe(-1, "other", 900_000_000) {
		t.Error("another name shares the window")
	}
}

func TestLatencyConstantStreamUsesTheFloor(t *testing.T) {
	tracker := testLatency(32, 8, 1)
	for range 32 {
		tracker.observe(0, "", 100_000)
	}
	if tracker.observe(0, "", 5_000_000) || !tracker.observe(0, "", 7_000_000) {
		t.Error("with MAD 0 the 1 ms floor should need 6 ms above the median")
	}
}

func TestLatencyLowerFloorCatchesDelaysOfFastCalls(t *testing.T) {
	for _, c := range []struct {
		floor   float64
		flagged bool
	}{{1, false}, {0.5, true}} {
		tracker := testLatency(32, 8, c.floor)
		for range 32 {
			tracker.observe(-1, "MongoDB/find", 500_000)
		}
		if got := tracker.observe(-1, "MongoDB/find", 5_000_000); got != c.flagged {
			t.Errorf("floor %v ms: flagged %v", c.floor, got)
		}
	}
}

func TestLatencyWindowSlides(t *testing.T) {
	tracker := testLatency(16, 8, 1)
	for range 16 {
		tracker.observe(-1, "n", 10_000_000)
	}
	for range 40 {
		tracker.observe(-1, "n", 100_000_000)
	}
	if tracker.observe(-1, "n", 101_000_000) {
		t.Error("after a full window the new level is normal")
	}
}
