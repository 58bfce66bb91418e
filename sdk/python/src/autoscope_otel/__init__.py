"""Autoscope's span-level sampler for the OpenTelemetry Python SDK.

One line of configuration loads the policy ``autoscope analyze`` wrote::

    OTEL_TRACES_SAMPLER=autoscope OTEL_TRACES_SAMPLER_ARG=policy.json \\
        opentelemetry-instrument python app.py

or in code ``TracerProvider(sampler=AutoscopeSampler.from_path("policy.json"))``, with
``AutoscopeSpanProcessor`` wrapping the exporting processor to keep error spans and
their local ancestors.
"""

from .policy import Policy, PolicyError, load_policy, parse_policy
from .processor import AutoscopeSpanProcessor
from .sampler import AutoscopeSampler, HeadDecision, sampler_from_env

__all__ = [
    "AutoscopeSampler",
    "AutoscopeSpanProcessor",
    "HeadDecision",
    "Policy",
    "PolicyError",
    "load_policy",
    "parse_policy",
    "sampler_from_env",
]
