"""Trace context across the services.

FastAPI (0.16x) opens a server span per request itself and takes the caller's W3C context from its
headers; ServiceClient injects that context into every internal call. What is left is the gateway's
span around each command, which the owning service's request, append and relay publish then join.
"""

from __future__ import annotations

from opentelemetry.trace import SpanKind

from civitas_kernel import telemetry


def command_span(name: str):
    """The gateway's span around one command; calls made inside carry it to the owning service."""
    return telemetry.tracer().start_as_current_span(name, kind=SpanKind.CLIENT, attributes={"civitas.command": name})
