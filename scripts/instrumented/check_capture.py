#!/usr/bin/env python3
"""Checks one capture of scripts/instrumented/run.sh against what its services must show.

A capture is OTLP/JSON, one ExportTraceServiceRequest per line. The checks, each of which
fails the run with a list of what is wrong:

- every id is valid: 32 hex digits for trace ids and 16 for span ids, not all zero, a
  parent id empty or 16 hex digits; span ids unique within a trace; end not before start;
- every span's parent is in the capture (the load driver is not traced, so its requests
  start the traces; nothing else may lack its parent: that would be a lost span);
- every service the expectation file names produced spans;
- every expected call crosses processes: a CLIENT span in the caller (HTTP, or gRPC by
  ``rpc.system``) is the parent of a SERVER span in the callee;
- every failing endpoint produced an error span: a SERVER span of that service with
  status ERROR and the expected HTTP status code;
- with ``--autoscope BIN``, ``autoscope convert`` reads the capture and finds every span.

``--emitted-names FILE`` writes the distinct (service, kind, span name) triples, sorted.

Usage: check_capture.py CAPTURE --expect EXPECT.json [--autoscope BIN] [--emitted-names FILE]
Exit codes: 0 all checks pass, 1 a check failed, 2 unreadable input.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
STATUS_ERROR = 2
TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
SPAN_ID = re.compile(r"^[0-9a-f]{16}$")
# The HTTP status attribute under the current and the older semantic conventions.
HTTP_STATUS_KEYS = ("http.response.status_code", "http.status_code")
HTTP_METHOD_KEYS = ("http.request.method", "http.method")
RPC_SYSTEM_KEYS = ("rpc.system.name", "rpc.system")


class InputError(Exception):
    pass


@dataclass
class Span:
    service: str
    trace_id: str
    span_id: str
    parent_id: str
    name: str
    kind: int
    status: int
    start: int
    end: int
    attributes: dict = field(default_factory=dict)
    where: str = ""


def attribute_value(value: dict):
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in value:
            return value[key]
    if "intValue" in value:
        return int(value["intValue"])
    return None


def attributes_of(items) -> dict:
    return {item.get("key"): attribute_value(item.get("value") or {}) for item in items or []}


def read_capture(path: Path) -> list[Span]:
    spans = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: {err}") from err
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"{path}:{number}: not JSON: {err}") from err
        for resource_spans in request.get("resourceSpans", []):
            resource = attributes_of((resource_spans.get("resource") or {}).get("attributes"))
            service = resource.get("service.name", "")
            for scope_spans in resource_spans.get("scopeSpans", []):
                for raw in scope_spans.get("spans", []):
                    try:
                        spans.append(
                            Span(
                                service=service,
                                trace_id=raw.get("traceId", ""),
                                span_id=raw.get("spanId", ""),
                                parent_id=raw.get("parentSpanId", ""),
                                name=raw.get("name", ""),
                                kind=int(raw.get("kind", 0)),
                                status=int((raw.get("status") or {}).get("code", 0)),
                                start=int(raw.get("startTimeUnixNano", "0")),
                                end=int(raw.get("endTimeUnixNano", "0")),
                                attributes=attributes_of(raw.get("attributes")),
                                where=f"{path.name}:{number}",
                            )
                        )
                    except (TypeError, ValueError) as err:
                        raise InputError(f"{path}:{number}: malformed span: {err}") from err
    return spans


def check_ids(spans: list[Span]) -> list[str]:
    problems = []
    seen = Counter((s.trace_id, s.span_id) for s in spans)
    for s in spans:
        label = f"{s.where} {s.service} {s.name!r}"
        if not TRACE_ID.match(s.trace_id) or s.trace_id == "0" * 32:
            problems.append(f"{label}: invalid trace id {s.trace_id!r}")
        if not SPAN_ID.match(s.span_id) or s.span_id == "0" * 16:
            problems.append(f"{label}: invalid span id {s.span_id!r}")
        if s.parent_id and not SPAN_ID.match(s.parent_id):
            problems.append(f"{label}: invalid parent span id {s.parent_id!r}")
        if s.start <= 0 or s.end < s.start:
            problems.append(f"{label}: bad times start={s.start} end={s.end}")
        if seen[(s.trace_id, s.span_id)] > 1:
            problems.append(f"{label}: span id {s.span_id} appears more than once in its trace")
    return problems


def check_parents(spans: list[Span], by_id: dict) -> list[str]:
    return [
        f"{s.where} {s.service} {s.name!r}: parent {s.parent_id} is not in the capture"
        for s in spans
        if s.parent_id and (s.trace_id, s.parent_id) not in by_id
    ]


def is_protocol(span: Span, protocol: str) -> bool:
    if protocol == "grpc":
        return any(span.attributes.get(key) == "grpc" for key in RPC_SYSTEM_KEYS)
    if protocol == "http":
        return any(key in span.attributes for key in HTTP_METHOD_KEYS)
    raise InputError(f"unknown protocol {protocol!r} in the expectation file")


def check_expectations(spans: list[Span], by_id: dict, expect: dict) -> list[str]:
    problems = []
    per_service = Counter(s.service for s in spans)
    for service in expect.get("services", []):
        if per_service[service] == 0:
            problems.append(f"service {service!r} produced no spans")
    for call in expect.get("calls", []):
        caller, callee, protocol = call["from"], call["to"], call["protocol"]
        edges = 0
        for s in spans:
            parent = by_id.get((s.trace_id, s.parent_id))
            if (
                s.service == callee
                and s.kind == 2
                and parent is not None
                and parent.service == caller
                and parent.kind == 3
                and is_protocol(parent, protocol)
            ):
                edges += 1
        if edges == 0:
            problems.append(
                f"no {protocol} CLIENT span of {caller!r} is the parent"
                f" of a SERVER span of {callee!r}"
            )
    for failing in expect.get("failing", []):
        service, status = failing["service"], failing["http_status"]
        found = any(
            s.service == service
            and s.kind == 2
            and s.status == STATUS_ERROR
            and any(s.attributes.get(key) == status for key in HTTP_STATUS_KEYS)
            for s in spans
        )
        if not found:
            problems.append(
                f"service {service!r} has no SERVER span with status ERROR and HTTP status {status}"
            )
    return problems


def check_autoscope(binary: str, capture: Path, expected: int) -> list[str]:
    """`autoscope convert` must read the capture and find every span."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "converted.json"
        result = subprocess.run(
            [binary, "convert", str(capture), "-o", str(out)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            return [f"autoscope convert failed ({result.returncode}): {result.stderr.strip()}"]
        converted = read_capture(out)
    if len(converted) != expected:
        return [f"autoscope convert found {len(converted)} spans, the capture has {expected}"]
    return []


def write_emitted_names(spans: list[Span], path: Path, capture: Path) -> None:
    triples = sorted({(s.service, KINDS.get(s.kind, str(s.kind)), s.name) for s in spans})
    lines = [
        "# Distinct (service, kind, span name) triples one capture of scripts/instrumented/run.sh",
        f"# emitted ({capture.name}); regenerate with run.sh --emitted-names. Ground truth for",
        "# reviewers: never an input of the analyzer.",
    ]
    lines += ["\t".join(t) for t in triples]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("capture", type=Path)
    parser.add_argument("--expect", type=Path, required=True)
    parser.add_argument("--autoscope", help="autoscope binary: also check `convert` reads it")
    parser.add_argument("--emitted-names", type=Path)
    args = parser.parse_args(argv)
    try:
        spans = read_capture(args.capture)
        try:
            expect = json.loads(args.expect.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise InputError(f"{args.expect}: {err}") from err
        by_id = {(s.trace_id, s.span_id): s for s in spans}
        problems = []
        if not spans:
            problems.append("the capture holds no spans")
        problems += check_ids(spans)
        problems += check_parents(spans, by_id)
        problems += check_expectations(spans, by_id, expect)
        if args.autoscope:
            problems += check_autoscope(args.autoscope, args.capture, len(spans))
    except InputError as err:
        print(f"check_capture.py: {err}", file=sys.stderr)
        return 2
    if args.emitted_names:
        write_emitted_names(spans, args.emitted_names, args.capture)
    per_service = Counter(s.service for s in spans)
    names = defaultdict(set)
    for s in spans:
        names[s.service].add(s.name)
    summary = ", ".join(
        f"{svc} {count} spans/{len(names[svc])} names" for svc, count in sorted(per_service.items())
    )
    print(f"check_capture.py: {args.capture.name}: {len(spans)} spans ({summary})", file=sys.stderr)
    for problem in problems:
        print(f"check_capture.py: FAIL {problem}", file=sys.stderr)
    print(
        f"check_capture.py: {args.capture.name}: {'FAILED' if problems else 'ok'}"
        f" ({len(problems)} problems)",
        file=sys.stderr,
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
