"""Loading and validating a policy file (format version 2, version 1 read as 2 without
conditions): the JSON `autoscope analyze` writes (policy-schema/src/lib.rs)."""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from typing import Any

from .matchers import Template, TemplateError

MATCH_KINDS = ("exact", "template", "prefix", "glob")
SPAN_KINDS = ("server", "client", "producer", "consumer", "internal")


class PolicyError(ValueError):
    """A policy that cannot be loaded: the message names the file (and line) and field."""

    def __init__(self, origin: str, message: str, field: str = "", line: int = 0) -> None:
        self.origin = origin
        self.field = field
        self.line = line
        self.reason = message
        where = origin + (f": line {line}" if line else "") + (f": {field}" if field else "")
        super().__init__(f"{where}: {message}")


class _InvalidError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Action:
    """keep (rate None) or sample at rate."""

    rate: float | None


@dataclass(frozen=True)
class Rule:
    id: str
    service: str | None
    matchers: tuple[tuple[str, str], ...]
    kind: str | None
    attributes: tuple[tuple[str, str, str], ...]  # (key, matcher kind, text)
    action: Action


@dataclass(frozen=True)
class LatencyOverride:
    """Keep spans whose duration is an outlier for their kind (see latency.py)."""

    window: int = 256
    threshold: float = 6.0
    min_samples: int = 32
    min_spread_ms: float = 0.5


@dataclass(frozen=True)
class Policy:
    default_action: Action
    keep_errors: bool
    rules: tuple[Rule, ...] = field(default=())
    latency: LatencyOverride | None = None
    """The latency override; None when off (a policy without overrides has the default)."""


def _object(value: Any, at: str, allowed: set[str], required: tuple[str, ...] = ()) -> dict:
    if not isinstance(value, dict):
        raise _InvalidError(at, f"expected a JSON object, found {_json_type(value)}")
    for key in value:
        if key not in allowed:
            expected = ", ".join(f"`{k}`" for k in sorted(allowed))
            raise _InvalidError(at, f"unknown field `{key}`, expected one of {expected}")
    for key in required:
        if key not in value:
            raise _InvalidError(at, f"missing field `{key}`")
    return value


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _join(at: str, key: str) -> str:
    return f"{at}.{key}" if at else key


def _string(value: Any, at: str, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _InvalidError(at, f"expected a string, found {_json_type(value)}")
    return value


def _number(value: Any, at: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _InvalidError(at, f"expected a number, found {_json_type(value)}")
    return float(value)


def _unsigned(value: Any, at: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value >= 1 << 32:
        raise _InvalidError(at, f"expected an integer in [0, 2^32), found {value!r}")
    return value


def _action(value: Any, at: str) -> Action:
    value = _object(value, at, {"action", "rate"}, ("action",))
    kind = value["action"]
    if kind == "keep":
        if "rate" in value:
            raise _InvalidError(_join(at, "rate"), "a keep action has no rate")
        return Action(None)
    if kind == "sample":
        if "rate" not in value:
            raise _InvalidError(at, "missing field `rate`")
        rate = _number(value["rate"], _join(at, "rate"))
        if not 0.0 <= rate <= 1.0:
            raise _InvalidError(_join(at, "rate"), f"rate {value['rate']} is outside [0, 1]")
        return Action(rate)
    raise _InvalidError(_join(at, "action"), f"unknown action {kind!r} (expected keep or sample)")


def _one_matcher(value: dict, at: str, what: str) -> tuple[str, str]:
    given = [(k, value[k]) for k in MATCH_KINDS if k in value]
    if len(given) != 1:
        raise _InvalidError(at, f"{what} needs exactly one of exact, template, prefix, glob")
    kind, text = given[0]
    text = _string(text, _join(at, kind))
    if kind == "template":
        try:
            Template.parse(text)
        except TemplateError as error:
            raise _InvalidError(_join(at, kind), f"invalid template {text!r}: {error}") from None
    return kind, text


def _positive(value: Any, at: str) -> None:
    number = _number(value, at)
    if not (math.isfinite(number) and number > 0):
        raise _InvalidError(at, f"{number} must be a positive number")


def _check_evidence(value: Any, at: str) -> None:
    value = _object(value, at, {"score", "function", "file", "line", "reasons"}, ("score",))
    _number(value["score"], _join(at, "score"))
    for i, reason in enumerate(value.get("reasons", [])):
        _object(
            reason,
            f"{at}.reasons[{i}]",
            {"kind", "points", "detail", "file", "line"},
            ("kind", "points", "detail"),
        )


def _policy(doc: Any) -> Policy:
    top = {
        "$schema", "version", "generator", "target_reduction", "default_action",
        "overrides", "structure", "budget", "rules",
    }  # fmt: skip
    doc = _object(
        doc, "", top, ("version", "generator", "target_reduction", "default_action", "rules")
    )
    version = _unsigned(doc["version"], "version")
    if version not in (1, 2):
        raise _InvalidError(
            "version", f"unknown version {version} (this build reads versions 1 to 2)"
        )
    _object(
        doc["generator"],
        "generator",
        {"tool", "version", "source_root", "arguments"},
        ("tool", "version"),
    )
    reduction = _number(doc["target_reduction"], "target_reduction")
    if not 0.0 <= reduction <= 1.0:
        raise _InvalidError("target_reduction", f"{doc['target_reduction']} is outside [0, 1]")
    default_action = _action(doc["default_action"], "default_action")
    keep_errors = True
    latency_override: LatencyOverride | None = LatencyOverride()
    overrides = doc.get("overrides")
    if overrides is not None:
        latency_override = None
        overrides = _object(overrides, "overrides", {"keep_errors", "latency"})
        keep_errors = overrides.get("keep_errors", True)
        if not isinstance(keep_errors, bool):
            raise _InvalidError("overrides.keep_errors", "expected true or false")
        latency = overrides.get("latency")
        if latency is not None:
            at = "overrides.latency"
            latency = _object(
                latency,
                at,
                {"window", "threshold", "min_samples", "min_spread_ms"},
                ("window", "threshold", "min_samples"),
            )
            if _unsigned(latency["window"], f"{at}.window") == 0:
                raise _InvalidError(f"{at}.window", "window must be at least 1")
            _positive(latency["threshold"], f"{at}.threshold")
            _unsigned(latency["min_samples"], f"{at}.min_samples")
            spread = LatencyOverride.min_spread_ms
            if "min_spread_ms" in latency:
                spread = _number(latency["min_spread_ms"], f"{at}.min_spread_ms")
                if not (math.isfinite(spread) and spread >= 0):
                    raise _InvalidError(
                        f"{at}.min_spread_ms", f"{spread} must be a finite number >= 0"
                    )
            latency_override = LatencyOverride(
                latency["window"], float(latency["threshold"]), latency["min_samples"], spread
            )
    if "structure" in doc:
        structure = _object(doc["structure"], "structure", {"mode"}, ("mode",))
        if structure["mode"] not in ("keep-ancestors", "reparent"):
            raise _InvalidError("structure.mode", "expected keep-ancestors or reparent")
    if doc.get("budget") is not None:
        budget = _object(doc["budget"], "budget", {"spans_per_second"}, ("spans_per_second",))
        _positive(budget["spans_per_second"], "budget.spans_per_second")
    if not isinstance(doc["rules"], list):
        raise _InvalidError("rules", f"expected an array, found {_json_type(doc['rules'])}")
    rules: list[Rule] = []
    first_index_of_id: dict[str, int] = {}
    rule_fields = {
        "id", "service", "profile", "match", "kind", "attributes", "action", "evidence",
    }  # fmt: skip
    for i, raw in enumerate(doc["rules"]):
        at = f"rules[{i}]"
        raw = _object(raw, at, rule_fields, ("id", "match", "action"))
        rule_id = _string(raw["id"], f"{at}.id")
        if rule_id in first_index_of_id:
            raise _InvalidError(
                f"{at}.id",
                f"duplicate rule id {rule_id!r} "
                f"(first used by rules[{first_index_of_id[rule_id]}])",
            )
        first_index_of_id[rule_id] = i
        service = _string(raw.get("service"), f"{at}.service", optional=True)
        _string(raw.get("profile"), f"{at}.profile", optional=True)
        if not isinstance(raw["match"], list) or not raw["match"]:
            raise _InvalidError(f"{at}.match", "a rule needs at least one matcher")
        matchers = []
        for j, matcher in enumerate(raw["match"]):
            where = f"{at}.match[{j}]"
            kind, text = _one_matcher(_object(matcher, where, set(MATCH_KINDS)), where, "a matcher")
            if kind != "template" and not text:
                raise _InvalidError(f"{where}.{kind}", f"empty {kind} matcher")
            matchers.append((kind, text))
        span_kind = _string(raw.get("kind"), f"{at}.kind", optional=True)
        if span_kind is not None and span_kind not in SPAN_KINDS:
            raise _InvalidError(
                f"{at}.kind", f"unknown span kind {span_kind!r} ({', '.join(SPAN_KINDS)})"
            )
        conditions = raw.get("attributes", [])
        if not isinstance(conditions, list):
            raise _InvalidError(f"{at}.attributes", "expected an array")
        if version < 2:
            for what, present in (("kind", span_kind is not None), ("attribute", conditions)):
                if present:
                    raise _InvalidError(
                        f"{at}.{'kind' if what == 'kind' else 'attributes'}",
                        f"{what} conditions need policy version 2 (this policy says version "
                        f'{version}); set "version": 2',
                    )
        attributes = []
        for j, condition in enumerate(conditions):
            where = f"{at}.attributes[{j}]"
            condition = _object(condition, where, {"key", *MATCH_KINDS}, ("key",))
            key = _string(condition["key"], f"{where}.key")
            kind, text = _one_matcher(condition, where, f"attribute condition on {key!r}")
            if not key:
                raise _InvalidError(f"{where}.key", "empty attribute key")
            attributes.append((key, kind, text))
        action = _action(raw["action"], f"{at}.action")
        if raw.get("evidence") is not None:
            _check_evidence(raw["evidence"], f"{at}.evidence")
        rules.append(Rule(rule_id, service, tuple(matchers), span_kind, tuple(attributes), action))
    return Policy(default_action, keep_errors, tuple(rules), latency_override)


_PATH_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_DECODER = json.JSONDecoder()


def line_of_field(text: str, field: str) -> int:
    """The 1-based line where the value at a JSON path such as rules[3].action.rate
    starts in text (valid JSON); where the path ends early (a missing field), the line of
    the deepest value found. Only runs when a check failed."""

    def skip_space(at: int, also: str = "") -> int:
        while at < len(text) and text[at] in " \t\r\n" + also:
            at += 1
        return at

    at = found = skip_space(0)
    for key, index in _PATH_STEP.findall(field):
        if key and text.startswith("{", at):
            at = skip_space(at + 1)
            while text.startswith('"', at):
                name, at = _DECODER.raw_decode(text, at)
                at = skip_space(at, ":")
                if name == key:
                    break
                _, at = _DECODER.raw_decode(text, at)
                at = skip_space(at, ",")
            else:
                break
        elif index and text.startswith("[", at):
            at = skip_space(at + 1)
            for _ in range(int(index)):
                if text.startswith("]", at):
                    break
                _, at = _DECODER.raw_decode(text, at)
                at = skip_space(at, ",")
            if text.startswith("]", at):
                break
        else:
            break
        found = at
    return text.count("\n", 0, found) + 1


def parse_policy(text: str, origin: str = "<string>") -> Policy:
    """Parses and validates a policy from JSON text."""
    if not text.lstrip("\ufeff").strip():
        raise PolicyError(origin, "empty: expected a policy (a JSON object)")
    try:
        doc = json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as error:
        raise PolicyError(origin, f"column {error.colno}: {error.msg}", line=error.lineno) from None
    try:
        return _policy(doc)
    except _InvalidError as problem:
        line = line_of_field(text.lstrip("\ufeff"), problem.field)
        raise PolicyError(origin, problem.message, field=problem.field, line=line) from None


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """Reads and validates the policy file at path."""
    origin = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except FileNotFoundError:
        raise PolicyError(origin, "cannot read the policy: no such file") from None
    except IsADirectoryError:
        raise PolicyError(origin, "cannot read the policy: it is a folder, not a file") from None
    except PermissionError:
        raise PolicyError(origin, "cannot read the policy: permission denied") from None
    except UnicodeDecodeError as error:
        raise PolicyError(origin, f"invalid UTF-8: {error.reason}") from None
    except OSError as error:
        raise PolicyError(origin, f"cannot read the policy: {error.strerror}") from None
    return parse_policy(text, origin)
