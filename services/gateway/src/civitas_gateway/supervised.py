"""Behind its supervisor's proxy (host mode) the site learns who each visitor is from the proxy alone.

The supervisor gives each release a pass (the file CIVITAS_SUPERVISOR_PASS_FILE names, readable only by the site's
own user) and sends it in `Civitas-Supervisor` with every request it makes. The proxy's requests carry the visitor's
address in `X-Forwarded-For`, which then names the client, so each visitor has a rate-limit bucket of their own; the
supervisor's own health requests carry no address and pass the address limit uncounted, so a flood of a release's
port cannot fail it. Without the pass both headers count for nothing: a visitor who sends them is their own address.
"""

from __future__ import annotations

import hmac
import ipaddress
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

PASS_HEADER = b"civitas-supervisor"
FORWARDED_FOR = b"x-forwarded-for"
HEALTH_CHECK = "civitas.supervisor_check"  # set in the scope of the supervisor's own requests


def read_pass(path: Path | None) -> bytes | None:
    if path is None:
        return None
    value = Path(path).read_bytes().strip()
    return value or None


class SupervisorProxy:
    """ASGI middleware, outside the rate limits: a request with the supervisor's pass is the proxy's (the client is
    the address it names) or the supervisor's own (exempt); the pass header never reaches the routes."""

    def __init__(self, app: ASGIApp, supervisor_pass: bytes) -> None:
        self.app, self.supervisor_pass = app, supervisor_pass

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = self._read(scope)
        await self.app(scope, receive, send)

    def _read(self, scope: Scope) -> Scope:
        given, forwarded, rest = None, None, []
        for name, value in scope.get("headers") or ():
            if name == PASS_HEADER:
                given = value
                continue
            if name == FORWARDED_FOR:
                forwarded = value
            rest.append((name, value))
        if given is None:
            return scope
        scope = dict(scope, headers=rest)
        if not hmac.compare_digest(given, self.supervisor_pass):
            return scope
        if forwarded is None:
            scope[HEALTH_CHECK] = True
            return scope
        address = _address(forwarded)
        if address is not None:
            scope["client"] = (address, 0)
        return scope


def exempts(scope: Scope) -> bool:
    """Whether a request is the supervisor's own health check (its pass, no visitor's address)."""
    return scope.get(HEALTH_CHECK) is True


def _address(forwarded: bytes) -> str | None:
    """The last address of X-Forwarded-For (the one the proxy added), if it is one."""
    text = forwarded.decode("latin-1").rsplit(",", 1)[-1].strip()
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None
