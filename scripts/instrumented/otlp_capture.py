#!/usr/bin/env python3
"""A neutral OTLP/HTTP trace receiver that records what exporters send.

It accepts ``POST /v1/traces`` with an ``ExportTraceServiceRequest`` in binary protobuf
(``application/x-protobuf``) or OTLP/JSON (``application/json``), optionally gzip-encoded,
answers as the OTLP/HTTP specification says (200 with an ``ExportTraceServiceResponse``
in the request's encoding; 400 with a ``google.rpc.Status`` for a body that does not
decode; 404, 405, 411, 413 and 415 for the other failures), and appends each accepted
request as one line of OTLP/JSON in the specification's JSON encoding: lowerCamelCase
field names, trace and span ids as hex, enums as integers, 64-bit integers as strings.

The lines go to ``OUTPUT.partial`` while the receiver runs and the file is renamed to
``OUTPUT`` when it stops (SIGTERM or SIGINT), so a capture that exists is complete.
``GET /stats`` answers the running counts as JSON, so a caller can wait until exporters
have flushed. Nothing accepted is dropped silently: the counts are printed on exit.

Usage: otlp_capture.py --output FILE [--host 127.0.0.1] [--port 0] [--port-file FILE]
Exit codes: 0 on a clean stop, 2 on bad arguments or an unusable output path.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import os
import signal
import sys
import threading
import zlib
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

TRACES_PATH = "/v1/traces"
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
DEFAULT_MAX_BODY = 64 * 1024 * 1024

# google.rpc.Code values the OTLP/HTTP specification uses in error bodies.
INVALID_ARGUMENT = 3


class BadRequestError(Exception):
    """A request body that is not a valid ExportTraceServiceRequest."""


def hex_to_b64(value: Any, field: str, size: int) -> str:
    """Turns an OTLP/JSON hex id into the base64 form protobuf's JSON parser expects."""
    if not isinstance(value, str):
        raise BadRequestError(f"{field} must be a hex string")
    if value == "":
        return ""
    if len(value) != 2 * size:
        raise BadRequestError(f"{field} must be {2 * size} hex digits, got {len(value)}")
    try:
        raw = bytes.fromhex(value)
    except ValueError as err:
        raise BadRequestError(f"{field} is not hex: {value!r}") from err
    return base64.b64encode(raw).decode("ascii")


def b64_to_hex(value: str) -> str:
    """Turns protobuf's base64 bytes field into the hex OTLP/JSON writes for ids."""
    return base64.b64decode(value).hex()


# Id fields of spans and links, with their byte sizes, in both JSON spellings the
# protobuf JSON parser accepts (OTLP/JSON writers use lowerCamelCase).
SPAN_IDS = {
    "traceId": 16,
    "trace_id": 16,
    "spanId": 8,
    "span_id": 8,
    "parentSpanId": 8,
    "parent_span_id": 8,
}
LINK_IDS = {"traceId": 16, "trace_id": 16, "spanId": 8, "span_id": 8}


def spans_of(document: dict) -> list[dict]:
    """Every span object of a request in JSON form (either key spelling)."""
    spans = []
    for resource_spans in document.get("resourceSpans") or document.get("resource_spans") or []:
        scopes = resource_spans.get("scopeSpans") or resource_spans.get("scope_spans") or []
        for scope_spans in scopes:
            spans.extend(scope_spans.get("spans") or [])
    return spans


def convert_ids(document: dict, convert, span_fields: dict, link_fields: dict) -> None:
    """Applies ``convert(value, field, size)`` to every span and link id, in place."""
    for span in spans_of(document):
        for key, size in span_fields.items():
            if key in span:
                span[key] = convert(span[key], key, size)
        for link in span.get("links") or []:
            for key, size in link_fields.items():
                if key in link:
                    link[key] = convert(link[key], key, size)


def parse_body(body: bytes, content_type: str) -> trace_service_pb2.ExportTraceServiceRequest:
    """Decodes a request body; raises BadRequestError with a readable reason."""
    request = trace_service_pb2.ExportTraceServiceRequest()
    if content_type == PROTOBUF:
        try:
            request.ParseFromString(body)
        except DecodeError as err:
            raise BadRequestError(f"body is not an ExportTraceServiceRequest: {err}") from err
        return request
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BadRequestError(f"body is not JSON: {err}") from err
    if not isinstance(document, dict):
        raise BadRequestError("body must be a JSON object")
    try:
        convert_ids(document, hex_to_b64, SPAN_IDS, LINK_IDS)
        # The specification tells receivers to ignore fields they do not know.
        json_format.ParseDict(document, request, ignore_unknown_fields=True)
    except (AttributeError, TypeError) as err:
        raise BadRequestError(f"body is not an OTLP/JSON trace request: {err}") from err
    except json_format.ParseError as err:
        raise BadRequestError(f"body is not an OTLP/JSON trace request: {err}") from err
    return request


def to_otlp_json(request: trace_service_pb2.ExportTraceServiceRequest) -> str:
    """One compact line of OTLP/JSON, in the specification's JSON encoding."""
    document = json_format.MessageToDict(request, use_integers_for_enums=True)
    convert_ids(
        document,
        lambda value, _field, _size: b64_to_hex(value),
        {"traceId": 16, "spanId": 8, "parentSpanId": 8},
        {"traceId": 16, "spanId": 8},
    )
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def span_count(request: trace_service_pb2.ExportTraceServiceRequest) -> int:
    return sum(
        len(scope.spans) for resource in request.resource_spans for scope in resource.scope_spans
    )


class Capture:
    """The output file and the counts, shared by the request threads."""

    def __init__(self, output: Path) -> None:
        self.output = output
        self.partial = output.with_name(output.name + ".partial")
        self.file = open(self.partial, "w", encoding="utf-8")  # noqa: SIM115 (closed in finish)
        self.lock = threading.Lock()
        self.requests = 0
        self.spans = 0
        self.rejected_requests = 0

    def record(self, request: trace_service_pb2.ExportTraceServiceRequest) -> bool:
        """Appends one request; False once the capture is finished (nothing is written)."""
        line = to_otlp_json(request)
        with self.lock:
            if self.file.closed:
                return False
            self.file.write(line + "\n")
            self.file.flush()
            self.requests += 1
            self.spans += span_count(request)
        return True

    def reject(self) -> None:
        with self.lock:
            self.rejected_requests += 1

    def stats(self) -> dict:
        with self.lock:
            return {
                "requests": self.requests,
                "spans": self.spans,
                "rejected_requests": self.rejected_requests,
            }

    def finish(self) -> None:
        """Makes the capture visible under its final name, complete."""
        with self.lock:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            os.replace(self.partial, self.output)


class Handler(BaseHTTPRequestHandler):
    """OTLP/HTTP request handling; the server object carries the capture."""

    protocol_version = "HTTP/1.1"
    server: CaptureServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib name)
        if self.server.verbose:
            super().log_message(format, *args)

    def reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def reply_error(self, status: int, message: str, content_type: str = PROTOBUF) -> None:
        """An error answer whose body is a google.rpc.Status, as the spec asks."""
        rpc_status = status_pb2.Status(code=INVALID_ARGUMENT, message=message)
        if content_type == JSON:
            body = json_format.MessageToJson(rpc_status, indent=None).encode()
        else:
            content_type = PROTOBUF
            body = rpc_status.SerializeToString()
        self.reply(status, body, content_type)

    def read_body(self) -> bytes | None:
        """The raw body, or None after answering why it cannot be read."""
        max_body = self.server.max_body
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > max_body:
                    self.close_connection = True
                    self.reply_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body too large")
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = self.headers.get("Content-Length")
        if length is None:
            self.close_connection = True
            self.reply_error(HTTPStatus.LENGTH_REQUIRED, "Content-Length required")
            return None
        try:
            size = int(length)
        except ValueError:
            self.close_connection = True
            self.reply_error(HTTPStatus.BAD_REQUEST, f"bad Content-Length {length!r}")
            return None
        if size > max_body:
            self.close_connection = True
            self.reply_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body too large")
            return None
        return self.rfile.read(size)

    def do_GET(self) -> None:  # noqa: N802 (stdlib naming)
        if self.path == "/stats":
            self.reply(HTTPStatus.OK, json.dumps(self.server.capture.stats()).encode(), JSON)
        elif self.path == TRACES_PATH:
            self.reply_error(HTTPStatus.METHOD_NOT_ALLOWED, "use POST")
        else:
            self.reply_error(HTTPStatus.NOT_FOUND, f"no such path {self.path}")

    def do_POST(self) -> None:  # noqa: N802 (stdlib naming)
        if self.path != TRACES_PATH:
            self.close_connection = True
            self.reply_error(HTTPStatus.NOT_FOUND, f"no such path {self.path}")
            return
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        body = self.read_body()
        if body is None:
            self.server.capture.reject()
            return
        if content_type not in (PROTOBUF, JSON):
            self.server.capture.reject()
            self.reply_error(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                f"unsupported Content-Type {content_type!r}: use {PROTOBUF} or {JSON}",
            )
            return
        encoding = self.headers.get("Content-Encoding", "identity").strip().lower()
        try:
            if encoding == "gzip":
                body = gzip.decompress(body)
            elif encoding not in ("", "identity"):
                raise BadRequestError(f"unsupported Content-Encoding {encoding!r}")
            request = parse_body(body, content_type)
        except (BadRequestError, OSError, EOFError, zlib.error) as err:
            self.server.capture.reject()
            self.reply_error(HTTPStatus.BAD_REQUEST, str(err), content_type)
            return
        if not self.server.capture.record(request):
            self.reply_error(HTTPStatus.SERVICE_UNAVAILABLE, "receiver is stopping", content_type)
            return
        response = trace_service_pb2.ExportTraceServiceResponse()
        if content_type == JSON:
            self.reply(
                HTTPStatus.OK, json_format.MessageToJson(response, indent=None).encode(), JSON
            )
        else:
            self.reply(HTTPStatus.OK, response.SerializeToString(), PROTOBUF)


class CaptureServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, capture: Capture, max_body: int, verbose: bool) -> None:
        super().__init__(address, Handler)
        self.capture = capture
        self.max_body = max_body
        self.verbose = verbose


def write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", required=True, type=Path, help="OTLP/JSON lines file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 lets the OS pick")
    parser.add_argument("--port-file", type=Path, help="write the bound port here")
    parser.add_argument("--max-body", type=int, default=DEFAULT_MAX_BODY)
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    if not args.output.parent.is_dir():
        print(f"otlp_capture: {args.output}: directory does not exist", file=sys.stderr)
        return 2
    try:
        capture = Capture(args.output)
    except OSError as err:
        print(f"otlp_capture: {args.output}: {err}", file=sys.stderr)
        return 2
    try:
        server = CaptureServer((args.host, args.port), capture, args.max_body, args.verbose)
    except OSError as err:
        print(f"otlp_capture: cannot listen on {args.host}:{args.port}: {err}", file=sys.stderr)
        return 2
    port = server.server_address[1]
    if args.port_file:
        write_atomically(args.port_file, f"{port}\n")

    def stop(_signum, _frame) -> None:
        # shutdown() waits for serve_forever, so it must run off the serving thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"otlp_capture: listening on http://{args.host}:{port}{TRACES_PATH}", file=sys.stderr)
    server.serve_forever()
    server.server_close()
    capture.finish()
    stats = capture.stats()
    print(
        f"otlp_capture: {stats['requests']} requests, {stats['spans']} spans written to "
        f"{args.output}; {stats['rejected_requests']} requests rejected",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
