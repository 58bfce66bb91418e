"""The indexed rule lookup finds what a scan of every candidate finds."""

import itertools

import pytest
from conftest import CONFORMANCE

from autoscope_otel import AutoscopeSampler, load_policy
from autoscope_otel.matchers import Template

POLICIES = ["precedence", "matchers", "conditions", "rates", "randomness"]


def brute_force(sampler: AutoscopeSampler, service, name, kind, attributes):
    best = None
    for candidate in sampler._exact_and_others():
        if (
            candidate.name_matches(name)
            and candidate.applies(service, kind, attributes)
            and (best is None or candidate.rank < best.rank)
        ):
            best = candidate
    return (best.action if best else sampler._default).rule


def names_from(texts):
    for text in texts:
        for cut in range(len(text) + 1):
            yield from (text[:cut], text[:cut] + "x", text[:cut] + "/y/z", "/" + text[cut:])
        yield from (text + "/1", "é" + text)


@pytest.mark.parametrize("policy_name", POLICIES)
def test_indexed_lookup_equals_brute_force(policy_name):
    path = CONFORMANCE / "policies" / f"{policy_name}.json"
    policy = load_policy(path)
    sampler = AutoscopeSampler(policy, "a")
    texts = [text for rule in policy.rules for _, text in rule.matchers]
    attribute_sets = [None, {"server.address": "payments", "http.route": "/orders/{id}"}]
    checked = 0
    for name, service, kind, attributes in itertools.product(
        names_from(texts), ["a", "b"], [None, "server", "client"], attribute_sets
    ):
        got = sampler._action(service, name, kind, attributes).rule
        assert got == brute_force(sampler, service, name, kind, attributes), (name, service)
        checked += 1
    assert checked > 100


@pytest.mark.parametrize("policy_name", POLICIES)
def test_template_regexes_match_as_the_template_matcher_does(policy_name):
    policy = load_policy(CONFORMANCE / "policies" / f"{policy_name}.json")
    texts = [text for rule in policy.rules for _, text in rule.matchers]
    templates = [Template.parse(text) for rule in policy.rules for kind, text in rule.matchers
                 if kind == "template"]  # fmt: skip
    for template in templates:
        fast = template.matcher()
        for name in names_from(texts + ["/a/b", "/files/x/y", "{GET}/x/1", "/b/{7}"]):
            assert bool(fast(name)) == template.matches(name), (template, name)
