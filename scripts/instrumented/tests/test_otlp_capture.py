"""The capture receiver, over real HTTP: answers per OTLP/HTTP and the lines it writes."""

from __future__ import annotations

import gzip
import http.client
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

SCRIPT = Path(__file__).resolve().parent.parent / "otlp_capture.py"
TRACE_ID = bytes.fromhex("5b8efff798038103d269b633813fc60c")
SPAN_ID = bytes.fromhex("eee19b7ec3c1b174")
PARENT_ID = bytes.fromhex("eee19b7ec3c1b173")


def sample_request() -> trace_service_pb2.ExportTraceServiceRequest:
    request = trace_service_pb2.ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    attr = resource_spans.resource.attributes.add()
    attr.key = "service.name"
    attr.value.string_value = "orders"
    scope = resource_spans.scope_spans.add()
    scope.scope.name = "test"
    span = scope.spans.add()
    span.trace_id = TRACE_ID
    span.span_id = SPAN_ID
    span.parent_span_id = PARENT_ID
    span.name = "GET /orders/{id}"
    span.kind = trace_pb2.Span.SPAN_KIND_SERVER
    span.start_time_unix_nano = 1_700_000_000_000_000_001
    span.end_time_unix_nano = 1_700_000_000_500_000_000
    span.status.code = trace_pb2.Status.STATUS_CODE_ERROR
    code = span.attributes.add()
    code.key = "http.response.status_code"
    code.value.int_value = 500
    link = span.links.add()
    link.trace_id = TRACE_ID
    link.span_id = PARENT_ID
    return request


class Receiver:
    def __init__(self, tmp_path: Path) -> None:
        self.output = tmp_path / "capture.jsonl"
        port_file = tmp_path / "port"
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(SCRIPT),
                "--output",
                str(self.output),
                "--port-file",
                str(port_file),
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 20
        while not port_file.exists():
            assert self.process.poll() is None, self.process.stderr.read()
            assert time.monotonic() < deadline, "receiver did not start"
            time.sleep(0.05)
        self.port = int(port_file.read_text())

    def post(self, body: bytes, content_type: str, path: str = "/v1/traces", headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request(
            "POST", path, body=body, headers={"Content-Type": content_type, **(headers or {})}
        )
        response = conn.getresponse()
        result = (response.status, response.getheader("Content-Type"), response.read())
        conn.close()
        return result

    def get(self, path: str):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", path)
        response = conn.getresponse()
        result = (response.status, response.read())
        conn.close()
        return result

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        _, stderr = self.process.communicate(timeout=20)
        assert self.process.returncode == 0, stderr
        return stderr


@pytest.fixture
def receiver(tmp_path):
    r = Receiver(tmp_path)
    yield r
    if r.process.poll() is None:
        r.process.kill()
        r.process.wait()


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_protobuf_request_is_written_in_the_otlp_json_encoding(receiver):
    status, content_type, body = receiver.post(
        sample_request().SerializeToString(), "application/x-protobuf"
    )
    assert status == 200
    assert content_type == "application/x-protobuf"
    trace_service_pb2.ExportTraceServiceResponse().ParseFromString(body)
    assert not receiver.output.exists(), "the capture appears only when complete"
    stderr = receiver.stop()
    assert "1 requests, 1 spans" in stderr
    [request] = lines(receiver.output)
    span = request["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert span["traceId"] == TRACE_ID.hex()
    assert span["spanId"] == SPAN_ID.hex()
    assert span["parentSpanId"] == PARENT_ID.hex()
    assert span["links"][0] == {"traceId": TRACE_ID.hex(), "spanId": PARENT_ID.hex()}
    assert span["kind"] == 2
    assert span["status"] == {"code": 2}
    assert span["startTimeUnixNano"] == "1700000000000000001"
    assert span["attributes"][0]["value"] == {"intValue": "500"}
    assert not receiver.output.with_name("capture.jsonl.partial").exists()


def test_json_and_gzip_requests_give_the_same_line_as_protobuf(receiver):
    receiver.post(sample_request().SerializeToString(), "application/x-protobuf")
    receiver.stop()
    protobuf_line = receiver.output.read_text()

    (receiver.output.parent / "again").mkdir()
    again = Receiver(receiver.output.parent / "again")
    try:
        status, content_type, body = again.post(protobuf_line.encode(), "application/json")
        assert (status, content_type) == (200, "application/json")
        assert json.loads(body) == {}
        compressed = gzip.compress(sample_request().SerializeToString())
        status, _, _ = again.post(
            compressed, "application/x-protobuf", headers={"Content-Encoding": "gzip"}
        )
        assert status == 200
        again.stop()
        assert again.output.read_text().splitlines() == [protobuf_line.strip()] * 2
    finally:
        if again.process.poll() is None:
            again.process.kill()


def test_chunked_body_is_read(receiver):
    conn = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=10)
    payload = sample_request().SerializeToString()
    conn.request(
        "POST",
        "/v1/traces",
        body=iter([payload[:10], payload[10:]]),
        headers={"Content-Type": "application/x-protobuf"},
        encode_chunked=True,
    )
    assert conn.getresponse().status == 200
    conn.close()
    receiver.stop()
    assert len(lines(receiver.output)) == 1


def test_bad_bodies_get_400_with_a_status_and_are_counted(receiver):
    status, content_type, body = receiver.post(b"\x0a\xff", "application/x-protobuf")
    assert status == 400 and content_type == "application/x-protobuf"
    assert "ExportTraceServiceRequest" in status_pb2.Status.FromString(body).message
    bad_id = json.dumps(
        {"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "xyz", "spanId": "00"}]}]}]}
    )
    status, content_type, body = receiver.post(bad_id.encode(), "application/json")
    assert status == 400 and content_type == "application/json"
    assert "traceId" in json.loads(body)["message"]
    status, _, _ = receiver.post(b"{not json", "application/json")
    assert status == 400
    status, _, _ = receiver.post(b"x", "application/x-protobuf", headers={"Content-Encoding": "br"})
    assert status == 400
    assert json.loads(receiver.get("/stats")[1])["rejected_requests"] == 4
    stderr = receiver.stop()
    assert "0 requests, 0 spans" in stderr and "4 requests rejected" in stderr
    assert receiver.output.read_text() == ""


def test_wrong_media_type_path_and_method(receiver):
    assert receiver.post(b"{}", "text/plain")[0] == 415
    assert receiver.post(b"{}", "application/json", path="/v1/metrics")[0] == 404
    assert receiver.get("/v1/traces")[0] == 405
    assert receiver.get("/nothing")[0] == 404
    assert json.loads(receiver.get("/stats")[1]) == {
        "requests": 0,
        "spans": 0,
        "rejected_requests": 1,
    }


def test_missing_output_folder_is_exit_2(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--output", str(tmp_path / "no" / "such.jsonl")],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 2
    assert "such.jsonl" in result.stderr
