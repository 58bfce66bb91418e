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
    processor = AutoscopeSpanProcessor(SimpleSpanProcessor(exporter))
    provider = TracerProvider(sampler=AutoscopeSampler.from_path(path, "svc"))
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
