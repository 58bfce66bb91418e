"""The Autoscope sampler for the OpenTelemetry Python SDK."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, get_current_span
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

from .canonical import canonical_text
from .consistent import (
    adjusted_count,
    encode_th,
    explicit_rv,
    int_trace_randomness,
    ot_value,
    threshold,
    trace_randomness,
)
from .latency import LatencyTracker
from .matchers import Template, glob_regex
from .policy import Action, Policy, Rule, load_policy

_KIND_NAMES = {
    SpanKind.SERVER: "server",
    SpanKind.CLIENT: "client",
    SpanKind.PRODUCER: "producer",
    SpanKind.CONSUMER: "consumer",
    SpanKind.INTERNAL: "internal",
}
_MATCH_ORDER = {"exact": 0, "template": 1, "prefix": 2, "glob": 3}


@dataclass(frozen=True)
class HeadDecision:
    """A span's head decision."""

    sampled: bool
    rule: str | None
    """Id of the deciding rule; None for the default action."""
    randomness: int
    threshold: int
    th: str | None

    @property
    def adjusted_count(self) -> float:
        return adjusted_count(self.threshold) if self.sampled else 0.0


class _Action:
    """A rule's (or the default) action, compiled."""

    __slots__ = ("alone", "ot_th", "root_result", "rule", "th", "threshold")

    def __init__(self, rule: str | None, action: Action) -> None:
        self.rule = rule
        self.threshold = 0 if action.rate is None else threshold(action.rate)
        self.th = encode_th(self.threshold)
        self.ot_th = None if self.th is None else f"th:{self.th}"
        # What a root span's tracestate becomes: built once (TraceState is immutable).
        self.alone = TraceState([("ot", self.ot_th)]) if self.ot_th else TraceState()

    def state_for(self, parent: TraceState, ot: str | None) -> TraceState:
        """parent with th set in its ot entry (rv, other ot parts and entries kept)."""
        if ot == self.ot_th:
            return parent
        if not parent:
            return self.alone
        parts = [self.ot_th]
        if ot:
            parts += [p for p in ot.split(";") if p and not p.startswith("th:")]
        value = ";".join(parts)
        state = parent.update("ot", value) if ot is not None else parent.add("ot", value)
        # A value W3C rejects (too long) leaves the parent's state (the SDK logs it).
        return state if state.get("ot") == value else parent


def _value_matcher(kind: str, text: str):
    if kind == "exact":
        return text.__eq__
    if kind == "prefix":
        return lambda value: value.startswith(text)
    if kind == "template":
        return Template.parse(text).matcher()
    return glob_regex(text).fullmatch


class _Candidate:
    """One name matcher of one rule, with the rule's service and conditions."""

    __slots__ = (
        "action", "conditions", "kind", "literal_prefix", "name_matches", "rank", "service",
        "matcher_id", "matcher_kind", "text", "unconditional",
    )  # fmt: skip

    def __init__(
        self, index: int, matcher_id: int, rule: Rule, kind: str, text: str, action: _Action
    ) -> None:
        self.matcher_id = matcher_id
        self.matcher_kind = kind
        has_conditions = rule.kind is not None or bool(rule.attributes)
        # Lower wins: matcher kind, then service-scoped, then conditional, then rule order.
        self.rank = (
            (_MATCH_ORDER[kind] << 40)
            | ((rule.service is None) << 33)
            | ((not has_conditions) << 32)
            | index
        )
        self.service = rule.service
        self.kind = rule.kind
        self.conditions = tuple(
            (key, _value_matcher(how, value)) for key, how, value in rule.attributes
        )
        self.name_matches = _value_matcher(kind, text)
        self.text = text
        # Where a template's or prefix's candidates are indexed.
        self.literal_prefix = Template.parse(text).literal_prefix if kind == "template" else text
        self.unconditional = rule.service is None and not has_conditions
        self.action = action

    def applies(self, service: str, kind: str | None, attributes: Mapping | None) -> bool:
        if self.service is not None and self.service != service:
            return False
        if self.kind is not None and self.kind != kind:
            return False
        for key, matches in self.conditions:
            value = attributes.get(key) if attributes else None
            text = None if value is None else canonical_text(value)
            if text is None or not matches(text):
                return False
        return True


class AutoscopeSampler(Sampler):
    """Decides each span at its start exactly as the Autoscope runtime does.

    The decision is a function of the service, the span's name, kind and start
    attributes, and the trace's randomness (the rv of the parent's ot tracestate entry,
    else the low 56 bits of the trace id). A sampled span gets th in the ot entry of its
    tracestate. When the policy keeps error spans or latency outliers, a dropped span is
    still recorded (RECORD_ONLY) so that :class:`AutoscopeSpanProcessor` can export it
    if it ends with an error or took unusually long.
    """

    def __init__(self, policy: Policy, service_name: str, description: str = "") -> None:
        self.service_name = service_name
        self.keep_errors = policy.keep_errors
        self._default = _Action(None, policy.default_action)
        # Exact names by name; templates and prefixes by their literal prefix, probed
        # once per distinct prefix length; globs in a list. Each list is in rank order.
        exact: dict[str, list[_Candidate]] = {}
        by_prefix: dict[str, dict[str, list[_Candidate]]] = {"template": {}, "prefix": {}}
        globs: list[_Candidate] = []
        matcher_ids = itertools.count()
        for index, rule in enumerate(policy.rules):
            action = _Action(rule.id, rule.action)
            for kind, text in rule.matchers:
                candidate = _Candidate(index, next(matcher_ids), rule, kind, text, action)
                if kind == "exact":
                    exact.setdefault(text, []).append(candidate)
                elif kind == "glob":
                    globs.append(candidate)
                else:
                    by_prefix[kind].setdefault(candidate.literal_prefix, []).append(candidate)

        def by_rank(candidates: list[_Candidate]) -> tuple[_Candidate, ...]:
            return tuple(sorted(candidates, key=lambda c: c.rank))

        self._exact = {name: by_rank(found) for name, found in exact.items()}
        self._by_prefix = tuple(
            (
                sorted({len(prefix) for prefix in table}),
                {prefix: by_rank(found) for prefix, found in table.items()},
                kind == "template",
            )
            for kind, table in by_prefix.items()
        )
        self._globs = by_rank(globs)
        # One regex for all globs, one group each in rank order: a full match tries the
        # alternatives in order, so its group is the best glob matching the name.
        self._any_glob = re.compile(
            "|".join(f"({glob_regex(c.text).pattern})" for c in self._globs) or "(?!)",
            re.DOTALL,
        )
        self.latency = None if policy.latency is None else LatencyTracker(policy.latency)
        # Dropped spans are recorded when an override may keep them at their end.
        recorded = self.keep_errors or self.latency is not None
        self._dropped = Decision.RECORD_ONLY if recorded else Decision.DROP
        # What a root span gets, built once (the tracer only reads them).
        self._dropped_root = SamplingResult(self._dropped, None, TraceState())
        for action in {c.action for c in self._exact_and_others()} | {self._default}:
            action.root_result = SamplingResult(Decision.RECORD_AND_SAMPLE, None, action.alone)
        self._description = description or f"AutoscopeSampler{{service={service_name}}}"

    def _exact_and_others(self):
        for found in self._exact.values():
            yield from found
        for _, table, _ in self._by_prefix:
            for found in table.values():
                yield from found
        yield from self._globs

    @classmethod
    def from_path(
        cls, path: str | os.PathLike[str], service_name: str | None = None
    ) -> AutoscopeSampler:
        """Loads the policy at path (PolicyError names the file when it is invalid).

        service_name defaults to the service.name of the SDK's default resource
        (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES).
        """
        policy = load_policy(path)
        if service_name is None:
            service_name = str(Resource.create().attributes.get(SERVICE_NAME, ""))
        return cls(
            policy,
            service_name,
            f"AutoscopeSampler{{policy={os.fspath(path)},service={service_name}}}",
        )

    def _action(self, service: str, name: str, kind: str | None, attributes) -> _Action:
        candidate = self._find(service, name, kind, attributes)
        return self._default if candidate is None else candidate.action

    def _find(self, service: str, name: str, kind: str | None, attributes) -> _Candidate | None:
        """The candidate deciding the span; None for the default action."""
        candidates = self._exact.get(name)
        if candidates:
            for candidate in candidates:
                if candidate.unconditional or candidate.applies(service, kind, attributes):
                    return candidate
        for lengths, table, is_template in self._by_prefix:
            best = None
            for length in lengths:
                if length > len(name):
                    break
                found = table.get(name[:length])
                if not found:
                    continue
                for candidate in found:
                    if best is not None and best.rank <= candidate.rank:
                        break  # in rank order: nothing later here wins
                    if (not is_template or candidate.name_matches(name)) and (
                        candidate.unconditional or candidate.applies(service, kind, attributes)
                    ):
                        best = candidate
                        break
            if best is not None:
                return best
        first = self._any_glob.fullmatch(name)
        if first is None:
            return None
        for candidate in self._globs[first.lastindex - 1 :]:
            if candidate.name_matches(name) and (
                candidate.unconditional or candidate.applies(service, kind, attributes)
            ):
                return candidate
        return None

    def decide(
        self,
        service: str,
        name: str,
        kind: str | None,
        attributes: Mapping | None,
        trace_id: bytes,
        tracestate: str,
    ) -> HeadDecision:
        """The head decision from raw trace id bytes and a tracestate header: the function
        the conformance vectors pin. kind is the policy's name (``server``...) or None."""
        action = self._action(service, name, kind, attributes)
        rv = explicit_rv(ot_value(tracestate))
        randomness = trace_randomness(trace_id) if rv is None else rv
        return HeadDecision(
            randomness >= action.threshold, action.rule, randomness, action.threshold, action.th
        )

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        state = get_current_span(parent_context).get_span_context().trace_state
        ot = state.get("ot") if state else None
        candidate = self._find(self.service_name, name, _KIND_NAMES.get(kind), attributes)
        action = self._default if candidate is None else candidate.action
        rv = explicit_rv(ot) if ot else None
        randomness = int_trace_randomness(trace_id) if rv is None else rv
        if randomness >= action.threshold:
            if not state:
                return action.root_result
            return SamplingResult(Decision.RECORD_AND_SAMPLE, None, action.state_for(state, ot))
        if not state:
            return self._dropped_root
        return SamplingResult(self._dropped, None, state)

    def latency_outlier(self, span) -> bool:
        """Feeds the latency window of an ended span; whether it is an outlier (False
        when the policy has no latency override)."""
        if self.latency is None or span.end_time is None or span.start_time is None:
            return False
        candidate = self._find(
            self.service_name, span.name, _KIND_NAMES.get(span.kind), span.attributes
        )
        key = ("name", span.name)
        if candidate is not None and candidate.matcher_kind in ("exact", "template"):
            key = ("matcher", candidate.matcher_id)
        return self.latency.observe(key, max(span.end_time - span.start_time, 0))

    def get_description(self) -> str:
        return self._description


def sampler_from_env(arg: str | None) -> AutoscopeSampler:
    """The ``opentelemetry_traces_sampler`` entry point: OTEL_TRACES_SAMPLER=autoscope,
    OTEL_TRACES_SAMPLER_ARG=<policy path>."""
    if not arg:
        raise ValueError("OTEL_TRACES_SAMPLER_ARG must name the Autoscope policy file")
    return AutoscopeSampler.from_path(arg)
