#!/usr/bin/env python3
"""Drives the scripted load of one instrumented run: every request of a load file, a few
rounds, each answer checked against the status the file expects.

A load file has one request per line: ``METHOD TARGET PATH EXPECTED-STATUS [JSON BODY]``,
where TARGET names a base URL given with ``--target NAME=URL``; ``#`` starts a comment.

Usage: load.py LOAD_FILE --target NAME=URL... [--rounds 3] [--timeout 10]
Exit codes: 0 when every answer had the expected status, 1 when one did not, 2 on a bad
load file or arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Step:
    """One request of the load file."""

    line: int
    method: str
    target: str
    path: str
    status: int
    body: bytes | None


class LoadFileError(Exception):
    pass


def parse_load(path: Path, targets: dict[str, str]) -> list[Step]:
    steps = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        parts = text.split(None, 4)
        if len(parts) < 4:
            raise LoadFileError(f"{path}:{number}: want METHOD TARGET PATH STATUS [BODY]")
        method, target, url_path, status = parts[:4]
        if target not in targets:
            raise LoadFileError(f"{path}:{number}: no --target for {target!r}")
        if not status.isdigit():
            raise LoadFileError(f"{path}:{number}: status {status!r} is not a number")
        body = None
        if len(parts) == 5:
            try:
                body = json.dumps(json.loads(parts[4])).encode()
            except json.JSONDecodeError as err:
                raise LoadFileError(f"{path}:{number}: body is not JSON: {err}") from err
        steps.append(Step(number, method.upper(), target, url_path, int(status), body))
    if not steps:
        raise LoadFileError(f"{path}: no requests")
    return steps


def send(step: Step, base: str, timeout: float) -> int:
    request = urllib.request.Request(base + step.path, data=step.body, method=step.method)
    if step.body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as err:
        err.read()
        return err.code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("load_file", type=Path)
    parser.add_argument("--target", action="append", default=[], metavar="NAME=URL")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    args = parser.parse_args(argv)
    targets = {}
    for item in args.target:
        name, sep, url = item.partition("=")
        if not sep or not url:
            print(f"load.py: --target {item!r}: want NAME=URL", file=sys.stderr)
            return 2
        targets[name] = url.rstrip("/")
    try:
        steps = parse_load(args.load_file, targets)
    except (OSError, LoadFileError) as err:
        print(f"load.py: {err}", file=sys.stderr)
        return 2
    failures = 0
    sent = 0
    for _ in range(args.rounds):
        for step in steps:
            try:
                status = send(step, targets[step.target], args.timeout)
            except (urllib.error.URLError, OSError) as err:
                status = f"no answer ({err})"
            sent += 1
            if status != step.status:
                failures += 1
                print(
                    f"load.py: {args.load_file}:{step.line}: {step.method} {step.target}"
                    f"{step.path} answered {status}, expected {step.status}",
                    file=sys.stderr,
                )
    print(f"load.py: {sent} requests, {failures} with an unexpected status", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
