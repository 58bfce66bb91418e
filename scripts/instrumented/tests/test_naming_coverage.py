"""naming_coverage.py: the share of distinct pairs matched by a specific rule."""

from __future__ import annotations

import json

import naming_coverage

POLICY = {
    "rules": [
        {"id": "a:GET /x", "service": "a", "match": [{"exact": "GET /x"}]},
        {"id": "a:SELECT*", "service": "a", "match": [{"glob": "SELECT*"}]},
        {"id": "a:any", "service": "a", "match": [{"glob": "*"}]},
    ]
}


def run(tmp_path, rows, names, threshold="95"):
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(POLICY))
    coverage = tmp_path / "coverage.json"
    coverage.write_text(json.dumps({"summary": {"names": names}, "names": rows}))
    return naming_coverage.main(
        ["--policy", str(policy), "--coverage", str(coverage), "--label", "t"]
        + ["--threshold", threshold]
    )


def row(name, rule, service="a"):
    return {"service": service, "name": name, "count": 1, "rule": rule}


def test_all_specific_passes(tmp_path, capsys):
    rows = [row("GET /x", "a:GET /x"), row("SELECT t", "a:SELECT*")]
    assert run(tmp_path, rows, 2) == 0
    assert "2 of 2 distinct" in capsys.readouterr().out


def test_misses_are_listed_and_wildcards_do_not_count(tmp_path, capsys):
    rows = [
        row("GET /x", "a:GET /x"),
        row("connect", None),
        row("whatever", "a:any"),
        # one pair decided by two rules: a specific one and none
        row("SELECT t", "a:SELECT*"),
        row("SELECT t", None),
    ]
    assert run(tmp_path, rows, 4) == 1
    out = capsys.readouterr().out
    assert "1 of 4 distinct" in out and "(25.0%)" in out
    assert "miss a\tconnect\t(no rule)" in out
    assert "miss a\twhatever\t(only by non-specific rule a:any)" in out
    assert "miss a\tSELECT t\t(no rule)" in out
    assert run(tmp_path, rows, 4, threshold="20") == 0


def test_truncated_coverage_is_exit_2(tmp_path, capsys):
    assert run(tmp_path, [row("GET /x", "a:GET /x")], 3) == 2
    assert "--limit 0" in capsys.readouterr().err
