"""OpenTelemetry for civitas: OTLP/HTTP export when OTEL_EXPORTER_OTLP_ENDPOINT is set, silent otherwise.

Also the W3C trace context in Kafka headers, and the few metrics every service shares.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

INSTRUMENTATION = "civitas"
_PROPAGATOR = TraceContextTextMapPropagator()  # W3C traceparent/tracestate, whatever the global propagator is
_lock = threading.Lock()
_configured = False

Headers = Sequence[tuple[str, bytes]]


def configure(service_name: str, environ: Mapping[str, str] | None = None) -> bool:
    """Install OTLP/HTTP tracer and meter providers if OTEL_EXPORTER_OTLP_ENDPOINT is set; returns whether it did.

    Without the endpoint nothing is installed, so the API's no-op providers keep telemetry silent and cheap.
    Only the first call in a process installs anything (OpenTelemetry's globals can be set once).
    """
    global _configured
    environ = os.environ if environ is None else environ
    if not environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return False
    with _lock:
        if _configured:
            return True
        # Imported here: the SDK and exporter are needed only when something is exported.
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        resource = Resource.create({"service.name": environ.get("OTEL_SERVICE_NAME", service_name)})
        tracer_provider = TracerProvider(resource=resource)
        tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(tracer_provider)
        reader = PeriodicExportingMetricReader(OTLPMetricExporter())
        metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=[reader]))
        _configured = True
        return True


# The API's proxy: it follows whatever provider is installed later, without a lookup per span.
_GLOBAL_TRACER = trace.get_tracer(INSTRUMENTATION)


def tracer(provider: trace.TracerProvider | None = None) -> trace.Tracer:
    return provider.get_tracer(INSTRUMENTATION) if provider is not None else _GLOBAL_TRACER


def exporting() -> bool:
    """Whether a real tracer or meter provider is installed (by configure, or by a test), so spans go somewhere."""
    return tracing() or not _is_proxy(metrics.get_meter_provider())


def tracing() -> bool:
    """Whether a real tracer provider is installed, so spans are recorded (else the API's spans do nothing)."""
    return not _is_proxy(trace.get_tracer_provider())


def web_telemetry() -> dict[str, bool]:
    """FastAPI(telemetry=...) for a service: its own server spans and metrics when something exports them, else off.

    Decided when the app is made (after configure), since FastAPI otherwise asks the API's providers on every request.
    """
    on = exporting()
    return {"tracing": on, "metrics": on, "logs": on}


def _is_proxy(provider: object) -> bool:
    return type(provider).__name__.startswith(("Proxy", "_Proxy"))


# -- trace context in Kafka headers ---------------------------------------------------------


def inject_headers(context: Context | None = None) -> list[tuple[str, bytes]]:
    """The W3C trace context of `context` (default: the current one) as Kafka headers."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=context)
    return [(k, v.encode()) for k, v in carrier.items()]


def extract_context(headers: Headers | None) -> Context:
    """The trace context carried by Kafka headers (an empty context when there is none)."""
    carrier = {k: v.decode("latin-1") for k, v in headers or () if k in _PROPAGATOR.fields and v is not None}
    return _PROPAGATOR.extract(carrier)


def trace_header(headers: Headers | None) -> bytes | None:
    """The raw traceparent header, to tell cheaply whether two messages share a trace context."""
    for k, v in headers or ():
        if k == "traceparent":
            return v
    return None


# -- shared metrics -------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruments:
    events_appended: metrics.Counter  # events a log sealed (services count their appends)
    events_published: metrics.Counter  # events the outbox relay saw acknowledged by Kafka
    events_applied: metrics.Counter  # events a consumer applied to its projection
    events_parked: metrics.Counter  # messages a consumer refused (undecodable, tampered, gap, ...)
    consumer_lag: metrics.Histogram  # messages behind the partition's high watermark, per poll
    command_latency: metrics.Histogram  # seconds from command received to events sealed

    def command_timer(self, command: str):
        """`with instruments().command_timer("vote.cast"): ...` records the command's latency."""
        return _timed(self.command_latency, {"civitas.command": command})

    def commands_took(self, seconds: float, commands: Iterable[str]) -> None:
        """Record one latency for each of several commands decided and sealed together (a group commit)."""
        for command in commands:
            self.command_latency.record(seconds, {"civitas.command": command})


@contextmanager
def _timed(histogram: metrics.Histogram, attributes: dict[str, str]) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        histogram.record(time.perf_counter() - start, attributes)


_instruments: dict[object, Instruments] = {}


def instruments(provider: metrics.MeterProvider | None = None) -> Instruments:
    """The shared instruments on `provider` (default: the global one), created once per provider."""
    provider = provider or metrics.get_meter_provider()
    with _lock:
        found = _instruments.get(provider)
        if found is None:
            meter = provider.get_meter(INSTRUMENTATION)
            found = _instruments[provider] = Instruments(
                events_appended=meter.create_counter("civitas.events.appended", unit="{event}"),
                events_published=meter.create_counter("civitas.kafka.events.published", unit="{event}"),
                events_applied=meter.create_counter("civitas.kafka.events.applied", unit="{event}"),
                events_parked=meter.create_counter("civitas.kafka.events.parked", unit="{message}"),
                consumer_lag=meter.create_histogram("civitas.kafka.consumer.lag", unit="{message}"),
                command_latency=meter.create_histogram("civitas.command.latency", unit="s"),
            )
        return found
