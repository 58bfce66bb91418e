"""Bad policies: a PolicyError naming the file and the field."""

import json

import pytest

from autoscope_otel import AutoscopeSampler, PolicyError, load_policy
from autoscope_otel.policy import line_of_field

GOOD = {
    "version": 2,
    "generator": {"tool": "t", "version": "1"},
    "target_reduction": 0.5,
    "default_action": {"action": "sample", "rate": 0.5},
    "rules": [],
}


def rule(**fields) -> dict:
    return {"id": "a", "match": [{"exact": "x"}], "action": {"action": "keep"}, **fields}


CASES = [
    ("empty", "  \n", "empty: expected a policy"),
    ("syntax", '{\n  "version": 2,\n  oops\n}', ": line 3: column 3:"),
    ("unknown field", json.dumps({**GOOD, "colour": "red"}), "unknown field `colour`"),
    ("version", json.dumps({**GOOD, "version": 3}), "version: unknown version 3"),
    (
        "rate",
        json.dumps({**GOOD, "rules": [rule(action={"action": "sample", "rate": 1.5})]}),
        "rules[0].action.rate: rate 1.5 is outside [0, 1]",
    ),
    (
        "duplicate id",
        json.dumps({**GOOD, "rules": [rule(), rule()]}),
        "rules[1].id: duplicate rule id 'a' (first used by rules[0])",
    ),
    (
        "adjacent placeholders",
        json.dumps({**GOOD, "rules": [rule(match=[{"template": "/{a}{b}"}])]}),
        "rules[0].match[0].template: invalid template",
    ),
    (
        "two matchers in one",
        json.dumps({**GOOD, "rules": [rule(match=[{"exact": "x", "glob": "y"}])]}),
        "rules[0].match[0]: a matcher needs exactly one",
    ),
    (
        "kind",
        json.dumps({**GOOD, "rules": [rule(kind="sideways")]}),
        "rules[0].kind: unknown span kind 'sideways'",
    ),
    (
        "conditions in version 1",
        json.dumps({**GOOD, "version": 1, "rules": [rule(kind="client")]}),
        "rules[0].kind: kind conditions need policy version 2",
    ),
    (
        "empty key",
        json.dumps({**GOOD, "rules": [rule(attributes=[{"key": "", "exact": "1"}])]}),
        "rules[0].attributes[0].key: empty attribute key",
    ),
]


@pytest.mark.parametrize(("name", "text", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_policies_name_the_file(tmp_path, name, text, message):
    path = tmp_path / "policy.json"
    path.write_text(text)
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    assert str(raised.value).startswith(f"{path}: ")
    assert message in str(raised.value)


def test_missing_file(tmp_path):
    with pytest.raises(PolicyError, match="missing.json: cannot read the policy: no such file"):
        AutoscopeSampler.from_path(tmp_path / "missing.json", "svc")


def test_version_one_policies_load(tmp_path):
    path = tmp_path / "v1.json"
    policy = {
        **GOOD,
        "version": 1,
        "overrides": {"keep_errors": False},
        "structure": {"mode": "reparent"},
        "budget": {"spans_per_second": 100},
        "rules": [
            rule(
                service="s",
                profile="otel-python",
                evidence={"score": 3, "reasons": [{"kind": "hot", "points": -1, "detail": "d"}]},
            )
        ],
    }
    path.write_text(json.dumps(policy))
    sampler = AutoscopeSampler.from_path(path, "s")
    assert not sampler.keep_errors
    decision = sampler.decide("s", "x", None, None, bytes(16), "")
    assert decision.sampled
    assert decision.rule == "a"


LINES = """{
  "version": 2,
  "generator": {"tool": "t", "version": "1"},
  "target_reduction": 0.5,
  "default_action": {"action": "keep"},
  "rules": [
    {"id": "a", "match": [{"exact": "x"}], "action": {"action": "keep"}},
    {"id": "b", "match": [{"exact": "y"}],
     "action": {"action": "sample",
                "rate": 7}}
  ]
}"""


def test_semantic_errors_name_the_line(tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(LINES)
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    assert str(raised.value) == f"{path}: line 10: rules[1].action.rate: rate 7 is outside [0, 1]"


@pytest.mark.parametrize(
    ("field", "line"),
    [("version", 2), ("rules[0]", 7), ("rules[1].id", 8), ("rules[1].action", 9),
     ("rules[1].kind", 8), ("rules[5]", 6), ("", 1)],
)  # fmt: skip
def test_line_of_field(field, line):
    assert line_of_field(LINES, field) == line
