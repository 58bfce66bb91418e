#!/usr/bin/env python3
"""The naming check of issue 10 on one capture: the share of distinct (service, span name)
pairs that a specific rule of the analyzer's policy matches, and the pairs it misses.

It reads the policy and the output of ``autoscope coverage --json --limit 0`` on the
capture. A pair counts when every span of it was decided by a specific rule (with rule
conditions, spans of one name can be decided by different rules). A rule is specific
unless every matcher it has is a bare wildcard glob (``*``, ``**``, ``/*``...), which
would match any name and so says nothing about naming.

Usage: naming_coverage.py --policy POLICY --coverage COVERAGE.json --label LABEL
       [--threshold 95]
Exit codes: 0 at or above the threshold, 1 below it, 2 unreadable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

WILDCARD_ONLY = set("*?/")


def is_specific(rule: dict) -> bool:
    matchers = rule.get("match") or []
    for matcher in matchers:
        glob = matcher.get("glob")
        if glob is None or not set(glob) <= WILDCARD_ONLY:
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--policy", type=Path, required=True)
    parser.add_argument("--coverage", type=Path, required=True)
    parser.add_argument("--label", required=True, help="what the figure is of, e.g. java-agent2")
    parser.add_argument("--threshold", type=float, default=95.0, help="percent")
    args = parser.parse_args(argv)
    try:
        policy = json.loads(args.policy.read_text(encoding="utf-8"))
        coverage = json.loads(args.coverage.read_text(encoding="utf-8"))
        specific = {rule["id"] for rule in policy.get("rules", []) if is_specific(rule)}
        # With kind and attribute conditions, spans of one name can be decided by several
        # rules, so coverage may list a pair more than once: one row per deciding rule.
        rules_of: dict[tuple[str, str], set] = defaultdict(set)
        for row in coverage["names"]:
            rules_of[(row["service"], row["name"])].add(row.get("rule"))
        if coverage["summary"]["names"] != len(rules_of):
            raise ValueError("coverage lists fewer names than it counts: run it with --limit 0")
    except (OSError, ValueError, KeyError, TypeError) as err:
        print(f"naming_coverage.py: {err}", file=sys.stderr)
        return 2
    # A pair is matched when every span of it was decided by a specific rule.
    misses = sorted(
        (service, name, sorted(rule or "" for rule in rules if rule not in specific))
        for (service, name), rules in rules_of.items()
        if not rules <= specific
    )
    total = len(rules_of)
    matched = total - len(misses)
    share = 100.0 * matched / total if total else 0.0
    passed = total > 0 and share >= args.threshold
    print(
        f"naming {args.label}: {matched} of {total} distinct (service, span name) pairs matched"
        f" by a specific rule ({share:.1f}%); threshold {args.threshold:g}%:"
        f" {'pass' if passed else 'FAIL'}"
    )
    for service, name, rules in misses:
        named = [rule for rule in rules if rule]
        how = "no rule" if not named else "only by non-specific rule " + ", ".join(named)
        if named and "" in rules:
            how = "some spans by no rule, some by non-specific rule " + ", ".join(named)
        print(f"  miss {service}\t{name}\t({how})")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
