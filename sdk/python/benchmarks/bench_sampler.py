"""Decision cost per span: AutoscopeSampler beside the SDK's own samplers, same run.

    python benchmarks/bench_sampler.py [--repeat 7] [--number 20000]

Prints the best of --repeat runs of --number decisions each (the runs of all cases
interleaved), in microseconds per decision, and each case's ratio to TraceIdRatioBased.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import timeit
from pathlib import Path

from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    TraceFlags,
    set_span_in_context,
)
from opentelemetry.trace.span import TraceState

from autoscope_otel import AutoscopeSampler


def bench_policy() -> dict:
    """Shaped like an analyzed service's policy (as the Go benchmark's)."""
    rules = []

    def add(rule_id: str, matcher: dict, **extra) -> None:
        rules.append(
            {"id": rule_id, "match": [matcher], "action": {"action": "sample", "rate": 0.25}}
            | extra
        )

    for i in range(200):
        extra = {"service": "checkout"} if i % 3 == 0 else {}
        add(f"exact-{i}", {"exact": f"GET /api/v1/resource{i}"}, **extra)
    add(
        "get-payments",
        {"exact": "GET"},
        kind="client",
        attributes=[{"key": "server.address", "exact": "payments"}],
    )
    add("get", {"exact": "GET"})
    for i in range(40):
        add(f"template-{i}", {"template": f"/api/v2/items{i}/{{id}}/detail"})
    for i in range(10):
        add(f"prefix-{i}", {"prefix": f"/static{i}/"})
    for i in range(5):
        add(f"glob-{i}", {"glob": f"*.ext{i}"})
    return {
        "version": 2,
        "generator": {"tool": "bench", "version": "1"},
        "target_reduction": 0.5,
        "default_action": {"action": "sample", "rate": 0.1},
        "rules": rules,
    }


SPANS = {
    "exact": ("GET /api/v1/resource150", SpanKind.SERVER, None),
    "conditions": (
        "GET",
        SpanKind.CLIENT,
        {"http.request.method": "GET", "server.address": "payments"},
    ),
    "template": ("/api/v2/items39/12345/detail", SpanKind.SERVER, None),
    "prefix": ("/static9/app.js", SpanKind.SERVER, None),
    "glob": ("file.ext4", SpanKind.INTERNAL, None),
    "default": ("SELECT orders", SpanKind.CLIENT, None),
}


def decider(sampler, span, parent, ids):
    """One decision per call, cycling through the trace ids."""
    name, kind, attributes = span
    should_sample = sampler.should_sample
    position = iter(range(1 << 62))

    def decide() -> None:
        should_sample(parent, ids[next(position) & 1023], name, kind, attributes)

    return decide


def best_times(cases: dict, repeat: int, number: int) -> dict[str, float]:
    """Microseconds per decision, best of repeat runs; the runs of all cases are
    interleaved, so a burst of load on the machine does not favour one case."""
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(repeat):
        for label, decide in cases.items():
            best[label] = min(best[label], timeit.timeit(decide, number=number))
    return {label: seconds / number * 1e6 for label, seconds in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=20000)
    args = parser.parse_args()
    generator = random.Random(7)
    ids = [generator.getrandbits(128) for _ in range(1024)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "policy.json"
        path.write_text(json.dumps(bench_policy()))
        sampler = AutoscopeSampler.from_path(path, "checkout")
    child_parent = set_span_in_context(
        NonRecordingSpan(SpanContext(1, 1, False, TraceFlags(1), TraceState([("ot", "th:c")])))
    )
    cases = {
        "sdk/TraceIdRatioBased": decider(TraceIdRatioBased(0.25), SPANS["exact"], None, ids),
        "sdk/ParentBased(TraceIdRatioBased)": decider(
            ParentBased(TraceIdRatioBased(0.25)), SPANS["exact"], None, ids
        ),
    }
    for case, span in SPANS.items():
        cases[f"autoscope/{case}"] = decider(sampler, span, None, ids)
    cases["autoscope/exact-child"] = decider(sampler, SPANS["exact"], child_parent, ids)
    times = best_times(cases, args.repeat, args.number)
    baseline = times["sdk/TraceIdRatioBased"]
    for label, micros in times.items():
        print(f"{label:40} {micros:7.3f} us/decision  {micros / baseline:5.2f}x")


if __name__ == "__main__":
    main()
