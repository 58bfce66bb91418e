"""Real Flask and requests instrumentation, with only the sampler and processor set."""

import json
import threading

import flask
import pytest
import requests
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from test_processor import assert_no_missing_local_parent
from werkzeug.serving import make_server

from autoscope_otel import AutoscopeSampler, AutoscopeSpanProcessor

# Keep the frontend's /ok endpoint and its calls to the backend's /backend/ok, sample
# nothing else; errors are kept. The requests instrumentation starts its client span
# named by the method alone, with the URL among the start attributes: url.full with the
# stable HTTP semantic conventions, http.url with the old ones (its default).
POLICY = {
    "version": 2,
    "generator": {"tool": "test", "version": "1"},
    "target_reduction": 0.9,
    "default_action": {"action": "sample", "rate": 0.0},
    "rules": [
        {
            "id": "ok-endpoint",
            "service": "frontend",
            "match": [{"exact": "GET /ok"}],
            "kind": "server",
            "action": {"action": "keep"},
        },
        {
            "id": "backend-call",
            "service": "frontend",
            "match": [{"exact": "GET"}],
            "kind": "client",
            "attributes": [{"key": "url.full", "glob": "*/backend/ok"}],
            "action": {"action": "keep"},
        },
        {
            "id": "backend-call-old-conventions",
            "service": "frontend",
            "match": [{"exact": "GET"}],
            "kind": "client",
            "attributes": [{"key": "http.url", "glob": "*/backend/ok"}],
            "action": {"action": "keep"},
        },
    ],
}


class Server:
    def __init__(self, app: flask.Flask) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join()


@pytest.fixture
def traced(tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(POLICY))
    exporter = InMemorySpanExporter()
    sampler = AutoscopeSampler.from_path(path, "frontend")
    processor = AutoscopeSpanProcessor(SimpleSpanProcessor(exporter), sampler)
    provider = TracerProvider(sampler=sampler)
    provider.add_span_processor(processor)
    RequestsInstrumentor().instrument(tracer_provider=provider)

    backend_app = flask.Flask("backend")
    backend_app.add_url_rule("/backend/ok", "ok", lambda: "ok")
    backend_app.add_url_rule("/backend/fail", "fail", lambda: flask.abort(500))
    FlaskInstrumentor().instrument_app(backend_app, tracer_provider=provider)
    backend = Server(backend_app)

    frontend_app = flask.Flask("frontend")

    def ok():
        return requests.get(f"{backend.url}/backend/ok", timeout=10).text

    def fail():
        requests.get(f"{backend.url}/backend/fail", timeout=10)
        return "degraded"  # answers 200 anyway

    frontend_app.add_url_rule("/ok", "ok", ok)
    frontend_app.add_url_rule("/fail", "fail", fail)
    frontend_app.add_url_rule("/quiet", "quiet", lambda: ("", 204))
    FlaskInstrumentor().instrument_app(frontend_app, tracer_provider=provider)
    frontend = Server(frontend_app)
    yield frontend.url, processor, exporter
    frontend.close()
    backend.close()
    RequestsInstrumentor().uninstrument()
    provider.shutdown()


def test_flask_and_requests(traced):
    url, processor, exporter = traced
    with requests.Session() as session:  # instrumented too: these calls are roots
        for endpoint in ("/ok", "/fail", "/quiet"):
            session.get(url + endpoint, timeout=10)
    spans = exporter.get_finished_spans()
    described = sorted(
        f"{span.kind.name.lower()} {span.name}"
        + (" (error)" if span.status.status_code is StatusCode.ERROR else "")
        for span in spans
        if not (span.kind is SpanKind.CLIENT and span.parent is None)  # the test's calls
    )
    assert described == [
        # /ok: the endpoint and its backend call, kept by rules (the backend's span, at
        # rate 0, is not).
        "client GET",
        # /fail: the call fails (a client span with a 500 answer is an error), and so
        # does the backend's span: both kept at their end; the frontend's endpoint,
        # dropped at its start, as their ancestor.
        "client GET (error)",
        "server GET /backend/fail (error)",
        "server GET /fail",
        "server GET /ok",
    ]
    assert_no_missing_local_parent(spans)
    ok = next(span for span in spans if span.name == "GET /ok")
    assert ok.context.trace_state.get("ot") == "th:0"
    stats = processor.stats()
    assert (stats["kept_by_error"], stats["kept_as_ancestor"], stats["waiting"]) == (2, 1, 0)
