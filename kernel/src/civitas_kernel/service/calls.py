"""Calling another service over HTTP: W3C trace context in the headers, its problems raised as the same errors."""

from __future__ import annotations

import json as json_module
from typing import Any

import httpx
from opentelemetry import propagate

from civitas_kernel.commands import (
    CommandError,
    ConflictError,
    ForbiddenError,
    KeyReusedError,
    NotFoundError,
    UnprocessableError,
)
from civitas_kernel.service.callers import CALLER_HEADER, CallerPass
from civitas_kernel.service.problems import TYPE_PREFIX, Problem

# A service answers a user's mistake with the status of its CommandError class; raise that class again here.
ERRORS_BY_STATUS: dict[int, type[CommandError]] = {
    400: CommandError, 403: ForbiddenError, 404: NotFoundError, 409: ConflictError, 422: UnprocessableError,
}
ERRORS_BY_KIND: dict[str, type[CommandError]] = {KeyReusedError.kind: KeyReusedError}


class ServiceUnavailable(Problem):
    """Another service did not answer, or failed: the gateway says 503 and names it."""

    def __init__(self, service: str, why: str) -> None:
        super().__init__(503, f"the {service} service is not available right now ({why}); try again shortly",
                         kind="service-unavailable", service=service)


class ServiceClient:
    """One keep-alive HTTP client to one service; thread-safe (httpx.Client is)."""

    def __init__(self, name: str, base_url: str, *, timeout: float = 30.0, http: httpx.Client | None = None) -> None:
        """http: a client of one's own (e.g. a TestClient of the service's app, in tests); else a new one for base_url."""
        self.name = name
        # Idle connections are dropped before the server's keep-alive timeout (serve: 30 s), so none is reused as it closes.
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=64, keepalive_expiry=10)
        self.http = http or httpx.Client(base_url=base_url, timeout=timeout, limits=limits)

    def call(self, method: str, path: str, *, json: Any = None, params: dict | None = None,
             content: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
        headers = dict(headers or {})
        propagate.inject(headers)  # the caller's span becomes the parent of the service's
        try:
            response = self.http.request(method, path, json=json, params=params, headers=headers, content=content)
        except httpx.TransportError as error:
            raise ServiceUnavailable(self.name, type(error).__name__) from None
        if response.status_code < 400:
            return response.json() if response.content else None
        raise error_of(self.name, response)

    def get(self, path: str, **params) -> Any:
        return self.call("GET", path, params=params or None)

    def post(self, path: str, body: Any = None) -> Any:
        return self.call("POST", path, json=body)

    def post_as(self, caller: str, callers: CallerPass, path: str, body: Any) -> Any:
        """POST as one of the site's services (`caller`), the request signed with the site key (service/callers.py)."""
        data = json_module.dumps(body, separators=(",", ":")).encode()
        signed = {"content-type": "application/json", CALLER_HEADER: callers.sign(caller, "POST", path, data)}
        return self.call("POST", path, content=data, headers=signed)

    def delete(self, path: str) -> Any:
        return self.call("DELETE", path)

    def close(self) -> None:
        self.http.close()


def error_of(service: str, response: httpx.Response) -> Exception:
    """The error a service's problem answer stands for: the same CommandError class, else ServiceUnavailable."""
    kind = None
    try:
        body = response.json()
        detail = body.get("detail") or response.reason_phrase
        kind = str(body.get("type", "")).removeprefix(TYPE_PREFIX) or None
    except (ValueError, AttributeError):
        detail = response.reason_phrase
    return error_of_status(service, response.status_code, detail, kind)


def error_of_status(service: str, status: int, detail: str, kind: str | None = None) -> Exception:
    """The error a service means by answering `status` (for a whole request, or for one command of a batch)."""
    error_class = ERRORS_BY_KIND.get(kind or "") or ERRORS_BY_STATUS.get(status)
    if error_class is not None:
        return error_class(detail)
    return ServiceUnavailable(service, f"it answered {status}: {detail}")
