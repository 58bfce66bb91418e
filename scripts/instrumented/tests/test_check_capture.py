"""check_capture.py on small hand-made captures: it passes a sound one and names each
fault it is meant to catch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import check_capture
import load

TRACE = "5b8efff798038103d269b633813fc60c"
EXPECT = {
    "services": ["front", "back"],
    "calls": [{"from": "front", "to": "back", "protocol": "http"}],
    "failing": [{"service": "back", "http_status": 500}],
}


def span(span_id, parent, name, kind, status=0, http_status=None, method=True):
    attributes = []
    if method:
        attributes.append({"key": "http.request.method", "value": {"stringValue": "GET"}})
    if http_status is not None:
        attributes.append(
            {"key": "http.response.status_code", "value": {"intValue": str(http_status)}}
        )
    return {
        "traceId": TRACE,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": name,
        "kind": kind,
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000000000000100",
        "status": {"code": status} if status else {},
        "attributes": attributes,
    }


def request(service, spans):
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans}]}]}


def sound_capture():
    return [
        request(
            "front",
            [
                span("00000000000000a1", "", "GET /x", 2, status=2, http_status=500),
                span("00000000000000a2", "00000000000000a1", "GET", 3, status=2, http_status=500),
            ],
        ),
        request(
            "back",
            [span("00000000000000b1", "00000000000000a2", "GET /y", 2, status=2, http_status=500)],
        ),
    ]


def run(tmp_path: Path, capture, expect=None, extra=()):
    path = tmp_path / "capture.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in capture))
    expect_path = tmp_path / "expect.json"
    expect_path.write_text(json.dumps(expect or EXPECT))
    return check_capture.main([str(path), "--expect", str(expect_path), *extra])


def test_sound_capture_passes_and_lists_names(tmp_path, capsys):
    names = tmp_path / "names.txt"
    assert run(tmp_path, sound_capture(), extra=["--emitted-names", str(names)]) == 0
    body = [line for line in names.read_text().splitlines() if not line.startswith("#")]
    assert body == ["back\tSERVER\tGET /y", "front\tCLIENT\tGET", "front\tSERVER\tGET /x"]


def test_lost_parent_fails(tmp_path, capsys):
    capture = sound_capture()
    del capture[0]["resourceSpans"][0]["scopeSpans"][0]["spans"][1]
    assert run(tmp_path, capture) == 1
    err = capsys.readouterr().err
    assert "parent 00000000000000a2 is not in the capture" in err
    assert "CLIENT span of 'front' is the parent of a SERVER span of 'back'" in err


def test_invalid_ids_fail(tmp_path, capsys):
    capture = sound_capture()
    bad = capture[1]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    bad["traceId"] = "0" * 32
    bad["spanId"] = "XYZ"
    assert run(tmp_path, capture) == 1
    err = capsys.readouterr().err
    assert "invalid trace id" in err and "invalid span id" in err


def test_missing_error_span_and_service_fail(tmp_path, capsys):
    capture = sound_capture()
    capture[1]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["status"] = {}
    expect = dict(EXPECT, services=["front", "back", "ghost"])
    assert run(tmp_path, capture, expect) == 1
    err = capsys.readouterr().err
    assert "service 'back' has no SERVER span with status ERROR and HTTP status 500" in err
    assert "service 'ghost' produced no spans" in err


def test_grpc_call_needs_rpc_system(tmp_path, capsys):
    expect = dict(EXPECT, calls=[{"from": "front", "to": "back", "protocol": "grpc"}])
    assert run(tmp_path, sound_capture(), expect) == 1
    assert "no grpc CLIENT span" in capsys.readouterr().err


def test_unreadable_capture_is_exit_2(tmp_path, capsys):
    path = tmp_path / "capture.jsonl"
    path.write_text("{}\nnot json\n")
    expect = tmp_path / "expect.json"
    expect.write_text("{}")
    assert check_capture.main([str(path), "--expect", str(expect)]) == 2
    assert "capture.jsonl:2: not JSON" in capsys.readouterr().err


def test_load_file_errors_name_the_line(tmp_path):
    path = tmp_path / "load.txt"
    path.write_text("# comment\nGET front /x 200\nGET nowhere /y 200\n")
    with pytest.raises(load.LoadFileError, match=r"load.txt:3: no --target for 'nowhere'"):
        load.parse_load(path, {"front": "http://127.0.0.1:1"})
    path.write_text("POST front /x 201 {broken\n")
    with pytest.raises(load.LoadFileError, match=r"load.txt:1: body is not JSON"):
        load.parse_load(path, {"front": "http://127.0.0.1:1"})
