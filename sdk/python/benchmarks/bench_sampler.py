"""Decision cost per span: AutoscopeSampler beside the SDK's own samplers, same run.

    python benchmarks/bench_sampler.py [--repeat 7] [--number 20000]

Prints the best of --repeat runs of --number decisions each, in microseconds per
decision, and each Autoscope case's ratio to TraceIdRatioBased.
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


def per_decision(sampler, span, parent, ids, repeat: int, number: int) -> float:
    name, kind, attributes = span
    should_sample = sampler.should_sample
    position = iter(range(1 << 62))

    def decide() -> None:
        should_sample(parent, ids[next(position) & 1023], name, kind, attributes)

    best = min(timeit.repeat(decide, repeat=repeat, number=number))
    return best / number * 1e6


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
    run = lambda s, span, parent=None: per_decision(  # noqa: E731
        s, span, parent, ids, args.repeat, args.number
    )
    baseline = run(TraceIdRatioBased(0.25), SPANS["exact"])
    rows = [("sdk/TraceIdRatioBased", baseline)]
    rows.append(
        (
            "sdk/ParentBased(TraceIdRatioBased)",
            run(ParentBased(TraceIdRatioBased(0.25)), SPANS["exact"]),
        )
    )
    for case, span in SPANS.items():
        rows.append((f"autoscope/{case}", run(sampler, span)))
    rows.append(("autoscope/exact-child", run(sampler, SPANS["exact"], child_parent)))
    for label, micros in rows:
        print(f"{label:40} {micros:7.3f} us/decision  {micros / baseline:5.2f}x")


if __name__ == "__main__":
    main()
