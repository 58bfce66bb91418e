"""Autoinstrumentation support: the processor under ``opentelemetry-instrument``.

``opentelemetry-instrument`` builds the tracer provider itself, with one
``BatchSpanProcessor`` per exporter. This configurator (entry point ``autoscope`` of
``opentelemetry_configurator``, picked with ``OTEL_PYTHON_CONFIGURATOR=autoscope``)
configures the SDK exactly as the default one does, but when ``OTEL_TRACES_SAMPLER`` is
``autoscope`` it wraps each exporting processor in :class:`AutoscopeSpanProcessor`, so
error spans and latency outliers the head decision dropped, and their local ancestors,
are exported.
"""

from __future__ import annotations

import os

from opentelemetry import trace
from opentelemetry.sdk._configuration import _OTelSDKConfigurator
from opentelemetry.sdk.environment_variables import OTEL_TRACES_SAMPLER
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from .processor import AutoscopeSpanProcessor
from .sampler import AutoscopeSampler


def autoscope_export_processor(exporter: SpanExporter) -> AutoscopeSpanProcessor:
    """A batch processor for exporter, wrapped to keep error spans, latency outliers and
    their ancestors by the overrides of the tracer provider's sampler's policy."""
    # The SDK installs the provider before it adds the export processors.
    sampler = getattr(trace.get_tracer_provider(), "sampler", None)
    if not isinstance(sampler, AutoscopeSampler):
        sampler = None
    return AutoscopeSpanProcessor(BatchSpanProcessor(exporter), sampler)


class AutoscopeConfigurator(_OTelSDKConfigurator):
    """The SDK's default configuration, plus Autoscope's processor with its sampler."""

    def _configure(self, **kwargs):
        if os.environ.get(OTEL_TRACES_SAMPLER, "").strip().lower() == "autoscope":
            kwargs.setdefault("export_span_processor", autoscope_export_processor)
        super()._configure(**kwargs)
