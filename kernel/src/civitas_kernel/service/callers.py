"""Calls between the site's own services that write on a caller's word, told apart from anyone else on the network.

Most internal routes take a voter's command the owner decides itself; a route that records what another service
saw (the gateway's refused operator token, written by the deployer) must know the caller is one of the site's
processes. Such a call carries `Civitas-Caller: NAME EXPIRES MAC`: an HMAC-SHA256 of the caller's name, the
method, the path, the expiry and the body's SHA-256, under a key derived from the site key (a label of its own, so
it is not the smoke pass's), which every service holds and nothing a proposal brings can read. A pass names when it
expires, at most MAX_TTL_S ahead; a forged, stale, malformed or missing one is refused with 403 and nothing is done.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.requests import Request

from civitas_kernel.service.problems import Problem
from civitas_kernel.smoke_pass import site_key_of_settings

CALLER_HEADER = "civitas-caller"
MAX_TTL_S = 120
_LABEL = b"civitas/internal-call/v1"

__all__ = ["CALLER_HEADER", "MAX_TTL_S", "CallerPass", "caller_required"]


class CallerPass:
    def __init__(self, secret: bytes, clock: Callable[[], float] = time.time) -> None:
        self._secret, self.clock = secret, clock

    @classmethod
    def of_key(cls, key: Ed25519PrivateKey, clock: Callable[[], float] = time.time) -> CallerPass:
        raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
        return cls(hmac.new(raw, _LABEL, hashlib.sha256).digest(), clock)

    @classmethod
    def of_settings(cls, settings) -> CallerPass | None:
        """The pass of the site key the settings name; None where this process holds none (host mode, no key yet)."""
        key = site_key_of_settings(settings)
        return cls.of_key(key) if key is not None else None

    def _mac(self, caller: str, method: str, path: str, expires: int, body: bytes) -> str:
        said = "\n".join((caller, method.upper(), path, str(expires), hashlib.sha256(body).hexdigest()))
        return hmac.new(self._secret, said.encode(), hashlib.sha256).hexdigest()

    def sign(self, caller: str, method: str, path: str, body: bytes, ttl_s: float = 30.0) -> str:
        """The header's value for this request, good for `ttl_s` seconds (at most MAX_TTL_S)."""
        expires = int(self.clock() + min(max(ttl_s, 1.0), MAX_TTL_S)) + 1
        return f"{caller} {expires} {self._mac(caller, method, path, expires, body)}"

    def caller_of(self, value: str | None, method: str, path: str, body: bytes) -> str | None:
        """The caller a header names, when it is a pass of this site for exactly this request and not expired."""
        if not value or len(value) > 200:
            return None
        parts = value.split(" ")
        if len(parts) != 3 or not parts[1].isdigit() or len(parts[1]) > 12:
            return None
        caller, expires, mac = parts[0], int(parts[1]), parts[2]
        now = self.clock()
        if not now < expires <= now + MAX_TTL_S + 1:
            return None
        return caller if hmac.compare_digest(mac, self._mac(caller, method, path, expires, body)) else None


def caller_required(callers: CallerPass | None, *allowed: str) -> Callable[[Request], Awaitable[str]]:
    """A FastAPI dependency: the calling service's name, one of `allowed`, else 403 (nothing is read further)."""

    async def caller(request: Request) -> str:
        body = await request.body()  # kept by Starlette: the route reads it again
        value = request.headers.get(CALLER_HEADER)
        found = callers.caller_of(value, request.method, request.url.path, body) if callers else None
        if found is None or found not in allowed:
            raise Problem(403, "this route takes calls from the site's own services only, signed with the site key "
                          f"({CALLER_HEADER}); nothing was done", kind="internal-only")
        return found

    return caller
