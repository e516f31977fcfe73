"""Trace context across the services: a server span per internal request, joined to the caller's trace."""

from __future__ import annotations

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind

from civitas_kernel import telemetry


class TraceContextMiddleware:
    """Pure ASGI (not BaseHTTPMiddleware), so the span's context flows down into the route in the same task."""

    def __init__(self, app, service: str) -> None:
        self.app, self.service = app, service

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] in ("/health", "/ready"):
            await self.app(scope, receive, send)
            return
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", ())}
        context = propagate.extract(carrier)
        name = f"{self.service} {scope['method']} {scope.get('route_path', scope['path'])}"
        with telemetry.tracer().start_as_current_span(name, context=context, kind=SpanKind.SERVER) as span:
            span.set_attribute("http.request.method", scope["method"])
            span.set_attribute("url.path", scope["path"])
            await self.app(scope, receive, send)


def command_span(name: str):
    """The gateway's span around one command; calls made inside carry it to the owning service."""
    return telemetry.tracer().start_as_current_span(name, kind=SpanKind.CLIENT, attributes={"civitas.command": name})


def current_trace_id() -> int:
    return trace.get_current_span().get_span_context().trace_id
