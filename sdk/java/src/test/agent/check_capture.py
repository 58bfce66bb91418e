"""Checks what the OpenTelemetry Java agent exported with the Autoscope sampler and policy.json.

usage: python3 check_capture.py CAPTURE.otlp.jsonl

CAPTURE is the OTLP/JSON capture of scripts/instrumented/run.sh (one export request a line)
of the services of testdata/instrumented/java under the agent with
-Dotel.traces.sampler=autoscope -Dotel.traces.sampler.arg=policy.json. policy.json
drops every span (default rate 0) but those of its three keep rules, and keeps errors.
The agent starts an HTTP server span with the method alone as its name (`GET`; the route
comes after routing), so two rules match `GET` with a condition on the start attribute
`url.path`.
Asserts:
- each rule kept spans (the load reaches every rule), each exported with
  `th:0` in the `ot` entry of its tracestate;
- every exported span is kept by a rule, ended with error status, or is a local ancestor
  of an exported span: nothing else got through;
- the failing request's error spans (the server spans in both services and the client
  call between them) were exported;
- no exported span misses its parent among the exported spans of its own process.
Exits 1 with the first problems listed.
"""

import json
import re
import sys
from collections import Counter

SERVER, CLIENT = 2, 3
ERROR = 2
# What policy.json keeps, as (service, kind, name) tests; the sampler's decision logic
# itself is covered by the conformance vectors.
RULES = {
    "order-by-id": lambda s, k, n, a: (
        s == "orders"
        and k == SERVER
        and a.get("http.request.method") == "GET"
        and re.fullmatch(r"/shop/orders/[^/]+", a.get("url.path", ""))
    ),
    "item-by-sku": lambda s, k, n, a: (
        s == "inventory"
        and k == SERVER
        and a.get("http.request.method") == "GET"
        and re.fullmatch(r"/items/[^/]+", a.get("url.path", ""))
    ),
    "stock-select": lambda s, k, n, a: (
        s == "inventory" and k == CLIENT and n.startswith("SELECT inventory.")
    ),
}
# Set when the parent span context is remote (OTLP span flags, bits 8 and 9).
HAS_IS_REMOTE, IS_REMOTE = 0x100, 0x200


def spans(path):
    with open(path, encoding="utf-8") as capture:
        for line in capture:
            request = json.loads(line)
            for resource_spans in request.get("resourceSpans", []):
                attributes = resource_spans.get("resource", {}).get("attributes", [])
                service = next(
                    (
                        a["value"].get("stringValue")
                        for a in attributes
                        if a["key"] == "service.name"
                    ),
                    None,
                )
                for scope_spans in resource_spans.get("scopeSpans", []):
                    for span in scope_spans.get("spans", []):
                        span["service"] = service
                        yield span


def parent_is_remote(span):
    flags = int(span.get("flags", 0))
    if flags & HAS_IS_REMOTE:
        return bool(flags & IS_REMOTE)
    # Without the flags: a server span's parent is the caller's client span.
    return span.get("kind") == SERVER


def main(path):
    exported = list(spans(path))
    problems = []
    by_id = {(s["service"], s["traceId"], s["spanId"]): s for s in exported}
    ancestors = set()
    for span in exported:
        if span.get("parentSpanId") and not parent_is_remote(span):
            key = (span["service"], span["traceId"], span["parentSpanId"])
            if key not in by_id:
                problems.append(f"{span['service']} {span['name']!r} misses its local parent")
            ancestors.add(key)
    kept_by_rule = Counter()
    for span in exported:
        service, kind, name = span["service"], span.get("kind"), span["name"]
        attributes = {
            a["key"]: next(iter(a["value"].values()), None) for a in span.get("attributes", [])
        }
        rule = next(
            (rule for rule, test in RULES.items() if test(service, kind, name, attributes)), None
        )
        error = span.get("status", {}).get("code") == ERROR
        key = (service, span["traceId"], span["spanId"])
        if rule:
            kept_by_rule[rule] += 1
            ot = dict(
                member.split("=", 1)
                for member in span.get("traceState", "").split(",")
                if "=" in member
            ).get("ot", "")
            if "th:0" not in ot.split(";"):
                problems.append(
                    f"{service} {name!r} kept by {rule} has tracestate {span.get('traceState')!r}"
                )
        elif not error and key not in ancestors:
            problems.append(
                f"{service} {name!r} (kind {kind}) was exported:"
                " no rule, no error, no exported descendant"
            )
    for rule in RULES:
        if kept_by_rule[rule] == 0:
            problems.append(f"no span kept by rule {rule}")
    errors = {
        (s["service"], s.get("kind"), s["name"])
        for s in exported
        if s.get("status", {}).get("code") == ERROR
    }
    for expected in [
        ("orders", SERVER, "POST /shop/orders"),
        ("orders", CLIENT, "POST"),
        ("inventory", SERVER, "POST /items/{sku}/reservations"),
    ]:
        if expected not in errors:
            problems.append(f"error span {expected} was not exported")
    if problems:
        print(f"check_capture: {len(problems)} problems in {len(exported)} spans:", file=sys.stderr)
        for problem in problems[:30]:
            print(f"  {problem}", file=sys.stderr)
        return 1
    by_reason = ", ".join(f"{rule} {count}" for rule, count in sorted(kept_by_rule.items()))
    print(
        f"check_capture: {len(exported)} spans exported, all justified"
        f" (by rule: {by_reason}; errors: {len(errors)} distinct)"
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
