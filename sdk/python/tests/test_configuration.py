"""The one line of configuration: the SDK's own configuration path loads the sampler."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from opentelemetry.sdk._configuration import _get_sampler, _import_sampler
from test_processor import drop_all_but_kept

from autoscope_otel import AutoscopeSampler

APP = """
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

print("SAMPLER", type(trace.get_tracer_provider().sampler).__name__, flush=True)
tracer = trace.get_tracer("app")
with tracer.start_as_current_span("root"):
    with tracer.start_as_current_span("kept"):
        pass
    with tracer.start_as_current_span("quiet"):
        pass
    with tracer.start_as_current_span("failing") as span:
        span.set_status(Status(StatusCode.ERROR, "boom"))
"""


@pytest.fixture
def policy_path(tmp_path) -> Path:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(drop_all_but_kept(True)))
    return path


def test_the_sdk_configurator_loads_the_entry_point(monkeypatch, policy_path):
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "autoscope")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", str(policy_path))
    monkeypatch.setenv("OTEL_SERVICE_NAME", "checkout")
    sampler = _import_sampler(_get_sampler())
    assert isinstance(sampler, AutoscopeSampler)
    assert sampler.service_name == "checkout"
    assert str(policy_path) in sampler.get_description()


def test_a_bad_policy_is_reported_with_its_file(monkeypatch, tmp_path, caplog):
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 2}')
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", str(bad))
    # The SDK logs the factory's error and falls back to its default sampler.
    assert _import_sampler("autoscope") is None
    assert f"{bad}: line 1: missing field `generator`" in caplog.text


def exported_spans(stdout: str) -> list[dict]:
    """The spans the console exporter printed (JSON objects one after another)."""
    decoder, spans, at = json.JSONDecoder(), [], 0
    while (start := stdout.find("{", at)) >= 0:
        span, at = decoder.raw_decode(stdout, start)
        spans.append(span)
    return spans


def run_instrumented(tmp_path, policy_path, **extra_env) -> tuple[str, list[dict]]:
    app = tmp_path / "app.py"
    app.write_text(APP)
    env = {
        **os.environ,
        "OTEL_TRACES_SAMPLER": "autoscope",
        "OTEL_TRACES_SAMPLER_ARG": str(policy_path),
        "OTEL_SERVICE_NAME": "checkout",
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        **extra_env,
    }
    instrument = Path(sys.executable).with_name("opentelemetry-instrument")
    done = subprocess.run(
        [str(instrument), sys.executable, str(app)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    first_line, _, rest = done.stdout.partition("\n")
    return first_line, exported_spans(rest)


def test_opentelemetry_instrument_with_the_config_line(tmp_path, policy_path):
    first_line, spans = run_instrumented(tmp_path, policy_path)
    assert first_line == "SAMPLER AutoscopeSampler"
    kept = [span for span in spans if span["name"] == "kept"]
    assert len(kept) == 1
    # The console exporter prints the tracestate as its list of members.
    assert kept[0]["context"]["trace_state"] == "['{key=ot, value=th:0}']"
    assert "quiet" not in {span["name"] for span in spans}


def test_opentelemetry_instrument_keeps_errors_with_the_autoscope_configurator(
    tmp_path, policy_path
):
    _, spans = run_instrumented(tmp_path, policy_path, OTEL_PYTHON_CONFIGURATOR="autoscope")
    assert sorted(span["name"] for span in spans) == ["failing", "kept", "root"]
    ids = {span["context"]["span_id"] for span in spans}
    for span in spans:
        assert span["parent_id"] is None or span["parent_id"] in ids, span["name"]
