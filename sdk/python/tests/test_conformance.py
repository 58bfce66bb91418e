"""Every case of conformance/v1, through the raw decision and the SDK's Sampler API."""

import json
import math
import struct

import pytest
from conftest import CONFORMANCE
from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    TraceFlags,
    set_span_in_context,
)
from opentelemetry.trace.span import TraceState

from autoscope_otel import AutoscopeSampler, load_policy
from autoscope_otel.consistent import NEVER, ot_value

KINDS = {
    "server": SpanKind.SERVER,
    "client": SpanKind.CLIENT,
    "producer": SpanKind.PRODUCER,
    "consumer": SpanKind.CONSUMER,
    "internal": SpanKind.INTERNAL,
}
DOUBLES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def read_cases():
    with open(CONFORMANCE / "cases.jsonl", encoding="utf-8") as file:
        return [json.loads(line) for line in file]


CASES = read_cases()
_samplers: dict = {}


def sampler_for(policy: str, service: str) -> AutoscopeSampler:
    key = (policy, service)
    if key not in _samplers:
        loaded = load_policy(CONFORMANCE / "policies" / f"{policy}.json")
        _samplers[key] = AutoscopeSampler(loaded, service)
    return _samplers[key]


def attributes_of(span) -> dict:
    out: dict = {}
    for attribute in span["attributes"]:
        kind, value = attribute["type"], attribute["value"]
        if kind == "double":
            value = DOUBLES[value] if isinstance(value, str) else float(value)
        elif kind == "int":
            assert isinstance(value, int) and -(2**63) <= value < 2**63
        elif kind == "bool":
            assert isinstance(value, bool)
        # The first attribute with a key counts, as in the SDK's attribute mapping.
        out.setdefault(attribute["key"], value)
    return out


def trace_id_of(span) -> bytes:
    trace_id = span["trace_id"]
    if "hex" in trace_id:
        return bytes.fromhex(trace_id["hex"])
    return trace_id["text"].encode("utf-8")


def hex14(value: int) -> str:
    return "100000000000000" if value == NEVER else f"{value:014x}"


def test_there_are_many_cases():
    assert len(CASES) > 1000
    groups = {case["id"].split("/")[0] for case in CASES}
    assert groups == {"precedence", "matchers", "rates", "conditions", "randomness", "random"}


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_case(case):
    span, expect = case["span"], case["expect"]
    sampler = sampler_for(case["policy"], span["service"])
    attributes = attributes_of(span)
    trace_id = trace_id_of(span)
    got = sampler.decide(
        span["service"], span["name"], span["kind"], attributes, trace_id, span["tracestate"]
    )
    assert got.sampled == expect["sampled"]
    assert got.rule == expect["rule"]
    assert hex14(got.randomness) == expect["randomness"]
    assert hex14(got.threshold) == expect["threshold"]
    assert got.th == expect["th"]
    assert struct.pack("<d", got.adjusted_count) == struct.pack("<d", expect["adjusted_count"])
    check_should_sample(sampler, case, trace_id, attributes)


def parent_state(header: str) -> TraceState | None:
    """The header as the SDK's TraceState, if the SDK reads its ot member alike."""
    state = TraceState.from_header([header]) if header else TraceState()
    if state.get("ot") != ot_value(header) or len(state) != len(
        [m for m in header.split(",") if m.strip(" \t")]
    ):
        return None
    return state


def check_should_sample(sampler, case, trace_id: bytes, attributes) -> None:
    """The same decision through Sampler.should_sample, with th written."""
    span, expect = case["span"], case["expect"]
    if len(trace_id) != 16:
        return  # the SDK has 16-byte ids only
    state = parent_state(span["tracestate"])
    if state is None:
        return
    trace_id_int = int.from_bytes(trace_id, "big")
    context: Context | None = None
    if span["tracestate"]:
        parent = SpanContext(trace_id_int, 0x0102030405060708, True, TraceFlags(0), state)
        context = set_span_in_context(NonRecordingSpan(parent))
    result = sampler.should_sample(
        context, trace_id_int, span["name"], KINDS.get(span["kind"]), attributes
    )
    if not expect["sampled"]:
        assert result.decision == Decision.RECORD_ONLY  # every conformance policy keeps errors
        assert result.trace_state == state
        return
    assert result.decision == Decision.RECORD_AND_SAMPLE
    ot = result.trace_state.get("ot")
    parts = ot.split(";")
    assert parts[0] == f"th:{expect['th']}"
    kept = [p for p in (state.get("ot") or "").split(";") if p and not p.startswith("th:")]
    assert parts[1:] == kept
    assert [k for k in result.trace_state if k != "ot"] == [k for k in state if k != "ot"]


def test_many_cases_run_through_should_sample(monkeypatch):
    ran = []
    original = AutoscopeSampler.should_sample

    def counting(self, *args, **kwargs):
        ran.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(AutoscopeSampler, "should_sample", counting)
    for case in CASES:
        span = case["span"]
        sampler = sampler_for(case["policy"], span["service"])
        check_should_sample(sampler, case, trace_id_of(span), attributes_of(span))
    print(f"{len(ran)} of {len(CASES)} cases ran through should_sample")
    assert len(ran) > 1000
