"""The error-keeping processor, through a real TracerProvider and InMemorySpanExporter."""

import json

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    Status,
    StatusCode,
    TraceFlags,
    set_span_in_context,
)

from autoscope_otel import AutoscopeSampler, AutoscopeSpanProcessor


def drop_all_but_kept(keep_errors: bool) -> dict:
    return {
        "version": 2,
        "generator": {"tool": "test", "version": "1"},
        "target_reduction": 0.9,
        "default_action": {"action": "sample", "rate": 0.0},
        "overrides": {"keep_errors": keep_errors},
        "rules": [{"id": "kept", "match": [{"exact": "kept"}], "action": {"action": "keep"}}],
    }


@pytest.fixture
def setup(tmp_path, request):
    keep_errors = getattr(request, "param", True)
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(drop_all_but_kept(keep_errors)))
    exporter = InMemorySpanExporter()
    sampler = AutoscopeSampler.from_path(path, "svc")
    processor = AutoscopeSpanProcessor(SimpleSpanProcessor(exporter), sampler)
    provider = TracerProvider(sampler=sampler)
    provider.add_span_processor(processor)
    yield provider.get_tracer("test"), processor, exporter
    provider.shutdown()


def assert_no_missing_local_parent(spans) -> None:
    exported = {span.context.span_id for span in spans}
    for span in spans:
        assert span.context.trace_flags.sampled, span.name
        parent = span.parent
        if parent is not None and not parent.is_remote:
            assert parent.span_id in exported, f"{span.name} exported without its parent"


def test_error_spans_and_their_ancestors_are_exported(setup):
    tracer, processor, exporter = setup
    with tracer.start_as_current_span("root"):
        with tracer.start_as_current_span("middle") as middle:
            assert middle.is_recording() and not middle.get_span_context().trace_flags.sampled
            with tracer.start_as_current_span("kept") as kept:
                assert kept.get_span_context().trace_flags.sampled
                assert kept.get_span_context().trace_state.get("ot") == "th:0"
        with tracer.start_as_current_span("quiet"):
            pass
        with tracer.start_as_current_span("failing") as failing:
            with tracer.start_as_current_span("under-failing"):
                pass
            failing.set_status(Status(StatusCode.ERROR, "boom"))
    with tracer.start_as_current_span("alone"):
        pass

    spans = exporter.get_finished_spans()
    assert sorted(span.name for span in spans) == ["failing", "kept", "middle", "root"]
    assert_no_missing_local_parent(spans)
    failing_span = next(span for span in spans if span.name == "failing")
    assert failing_span.status.status_code is StatusCode.ERROR
    assert processor.stats() == {
        "kept_by_error": 1,
        "kept_by_latency": 0,
        "kept_as_ancestor": 2,
        "dropped": 3,
        "waiting": 0,
        "waiting_overflow": 0,
    }


def test_an_exception_marks_the_span_as_error_and_keeps_it(setup):
    tracer, _, exporter = setup
    with pytest.raises(RuntimeError), tracer.start_as_current_span("raises"):
        raise RuntimeError("boom")
    assert [span.name for span in exporter.get_finished_spans()] == ["raises"]


def test_remote_parents_are_not_waited_for(setup):
    tracer, processor, exporter = setup
    remote = SpanContext(0x01000000000000000000000000000001, 9, True, TraceFlags(0))
    context = set_span_in_context(NonRecordingSpan(remote))
    with tracer.start_as_current_span("failing", context=context) as span:
        span.set_status(Status(StatusCode.ERROR))
    assert [span.name for span in exporter.get_finished_spans()] == ["failing"]
    assert processor.stats()["waiting"] == 0


@pytest.mark.parametrize("setup", [False], indirect=True)
def test_without_keep_errors_dropped_spans_are_not_recorded(setup):
    tracer, _, exporter = setup
    with tracer.start_as_current_span("dropped") as span:
        assert not span.is_recording()
        span.set_status(Status(StatusCode.ERROR))
    assert exporter.get_finished_spans() == ()


def test_latency_outliers_are_exported(tmp_path):
    policy = drop_all_but_kept(False)
    policy["overrides"]["latency"] = {
        "window": 16,
        "threshold": 6,
        "min_samples": 8,
        "min_spread_ms": 1,
    }
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy))
    exporter = InMemorySpanExporter()
    sampler = AutoscopeSampler.from_path(path, "svc")
    processor = AutoscopeSpanProcessor(SimpleSpanProcessor(exporter), sampler)
    provider = TracerProvider(sampler=sampler)
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("test")
    start = 1_700_000_000 * 10**9

    def run(name: str, took_ms: int, failed: bool = False) -> None:
        span = tracer.start_span(name, start_time=start)
        assert span.is_recording()  # recorded: the latency override may keep it
        if failed:
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=start + took_ms * 10**6)

    for i in range(16):
        run("op", 10 + i % 3)
    run("op", 500)  # an outlier: exported
    run("op", 11, failed=True)  # an error, but the policy does not keep errors
    run("other", 500)  # its own window, not warmed up
    spans = exporter.get_finished_spans()
    assert [(span.name, span.end_time - span.start_time) for span in spans] == [("op", 500 * 10**6)]
    assert processor.stats()["kept_by_latency"] == 1
    assert processor.stats()["kept_by_error"] == 0
    provider.shutdown()
