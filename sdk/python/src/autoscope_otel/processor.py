"""The span processor that keeps what only the end of a span reveals."""

from __future__ import annotations

import threading

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import SpanContext, TraceFlags
from opentelemetry.trace.status import StatusCode

from .sampler import AutoscopeSampler

MAX_WAITING = 1 << 16
"""Span ids a processor holds at most while they wait for their span to end; beyond it
an ancestor is not kept (counted in ``stats()["waiting_overflow"]``)."""


def _as_sampled(span: ReadableSpan) -> ReadableSpan:
    """The ended span as the next processor should see it: sampled."""
    context = span.context
    sampled = SpanContext(
        context.trace_id,
        context.span_id,
        context.is_remote,
        TraceFlags(context.trace_flags | TraceFlags.SAMPLED),
        context.trace_state,
    )
    # The SDK's own collections, so that dropped-attribute/event/link counts survive.
    return ReadableSpan(
        name=span.name,
        context=sampled,
        parent=span.parent,
        resource=span.resource,
        attributes=getattr(span, "_attributes", span.attributes),
        events=getattr(span, "_events", span.events),
        links=getattr(span, "_links", span.links),
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class AutoscopeSpanProcessor(SpanProcessor):
    """Wraps the exporting processor (e.g. ``BatchSpanProcessor(exporter)``).

    Passes on every sampled span, and also a recorded but unsampled span (the sampler's
    RECORD_ONLY) that ends with error status (when the policy keeps errors) or is a
    latency outlier by the policy's latency override, marked sampled; then every local
    ancestor
    of an exported span when that ancestor ends, so that no exported span misses a
    parent that ran in this process and ended after it. ``sampler`` is the
    :class:`AutoscopeSampler` whose policy's overrides apply; without it errors are
    kept and there is no latency override. It buffers no spans: it holds
    only the set of span ids waiting to be kept.
    """

    def __init__(
        self, next_processor: SpanProcessor, sampler: AutoscopeSampler | None = None
    ) -> None:
        self._next = next_processor
        self._sampler = sampler
        self._keep_errors = sampler is None or sampler.keep_errors
        self._lock = threading.Lock()
        self._waiting: set[int] = set()
        self._counts = {
            "kept_by_error": 0,
            "kept_by_latency": 0,
            "kept_as_ancestor": 0,
            "dropped": 0,
        }
        self._waiting_overflow = 0

    def stats(self) -> dict[str, int]:
        """What the processor did so far, and how many ids wait."""
        with self._lock:
            return {
                **self._counts,
                "waiting": len(self._waiting),
                "waiting_overflow": self._waiting_overflow,
            }

    def _wait_for(self, span_id: int) -> None:
        with self._lock:
            if len(self._waiting) >= MAX_WAITING and span_id not in self._waiting:
                self._waiting_overflow += 1
                return
            self._waiting.add(span_id)

    def _stop_waiting(self, span_id: int) -> bool:
        if not self._waiting:  # most spans end with nothing waiting: no lock
            return False
        with self._lock:
            if span_id in self._waiting:
                self._waiting.discard(span_id)
                return True
            return False

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self._next.on_start(span, parent_context=parent_context)
        own = span.context
        if not own.trace_flags.sampled:
            return
        # A sampled span under a local, unsampled parent: keep the parent when it ends.
        parent = span.parent
        if (
            parent is not None
            and parent.is_valid
            and not parent.is_remote
            and not parent.trace_flags.sampled
            and parent.trace_id == own.trace_id
        ):
            self._wait_for(parent.span_id)

    def on_end(self, span: ReadableSpan) -> None:
        # Every ended span feeds the latency windows, sampled or not.
        outlier = self._sampler is not None and self._sampler.latency_outlier(span)
        own = span.context
        if own.trace_flags.sampled:
            self._stop_waiting(own.span_id)
            self._next.on_end(span)
            return
        waited = self._stop_waiting(own.span_id)
        if self._keep_errors and span.status.status_code is StatusCode.ERROR:
            reason = "kept_by_error"
        elif outlier:
            reason = "kept_by_latency"
        elif waited:
            reason = "kept_as_ancestor"
        else:
            with self._lock:
                self._counts["dropped"] += 1
            return
        with self._lock:
            self._counts[reason] += 1
        parent = span.parent
        if parent is not None and parent.is_valid and not parent.is_remote:
            self._wait_for(parent.span_id)
        self._next.on_end(_as_sampled(span))

    def shutdown(self) -> None:
        self._next.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._next.force_flush(timeout_millis)
