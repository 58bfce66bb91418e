"""Sends a few small traces to an OTLP endpoint with the OpenTelemetry Python SDK.

Usage: send_spans.py grpc|http ENDPOINT TRACES OUT.json

Each trace: a SERVER root "GET /checkout" with children "cart.load", "payment.charge"
(an error in every third trace) and its child "card.authorize". The ids of every span
sent are written to OUT.json ({"traces": [{"trace_id", "spans": [{"span_id",
"parent_span_id", "name", "error"}]}]}) so the test can check what serve kept.
"""

import json
import sys

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import Status, StatusCode


class Recording(SpanExporter):
    """Wraps an exporter and records what it was given."""

    def __init__(self, inner):
        self.inner = inner
        self.spans = []

    def export(self, spans):
        self.spans.extend(spans)
        return self.inner.export(spans)

    def shutdown(self):
        self.inner.shutdown()

    def force_flush(self, timeout_millis=30000):
        return self.inner.force_flush(timeout_millis)


def main():
    protocol, endpoint, count, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=endpoint, insecure=True)
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")
    recording = Recording(exporter)
    provider = TracerProvider(resource=Resource.create({"service.name": "py-shop"}))
    provider.add_span_processor(SimpleSpanProcessor(recording))
    tracer = provider.get_tracer("autoscope-e2e")
    for i in range(count):
        with tracer.start_as_current_span("GET /checkout", kind=trace.SpanKind.SERVER):
            with tracer.start_as_current_span("cart.load"):
                pass
            with tracer.start_as_current_span("payment.charge") as charge:
                with tracer.start_as_current_span("card.authorize"):
                    pass
                if i % 3 == 0:
                    charge.set_status(Status(StatusCode.ERROR, "card declined"))
    provider.shutdown()
    traces = {}
    for span in recording.spans:
        ctx = span.get_span_context()
        trace_id = format(ctx.trace_id, "032x")
        parent = format(span.parent.span_id, "016x") if span.parent else ""
        traces.setdefault(trace_id, []).append(
            {
                "span_id": format(ctx.span_id, "016x"),
                "parent_span_id": parent,
                "name": span.name,
                "error": span.status.status_code == StatusCode.ERROR,
            }
        )
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"traces": [{"trace_id": t, "spans": s} for t, s in traces.items()]}, f)


if __name__ == "__main__":
    main()
