"""What a request body may be, checked before anything parses it: its size (per route), how long it may take to
arrive, and for JSON how deeply it nests.

    app.add_middleware(RequestLimits, limits=BodyLimits(default=64 * 1024, routes={"/commands": 8 << 20}))

A body announced (Content-Length) or sent beyond its route's limit is answered 413 without reading the
rest; one that does not arrive within BODY_TIMEOUT_S gets 408; JSON nested deeper than MAX_JSON_DEPTH
gets 400, before a parser could recurse into it. Each is a problem document. The body is read once and
handed on whole, so nothing after this reads more than the limit.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from civitas_kernel.service.problems import problem_response

DEFAULT_BODY = 64 * 1024  # bytes: the largest a voter's request needs (a shell line, a value) is a few KiB
BODY_TIMEOUT_S = 30.0
MAX_JSON_DEPTH = 32  # the deepest a civitas request nests is 3

_STRUCTURE = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)  # strings, skipped whole, and brackets


@dataclass(frozen=True)
class BodyLimits:
    default: int = DEFAULT_BODY
    routes: dict[str, int] = field(default_factory=dict)  # path prefix -> bytes, the longest prefix wins
    timeout_s: float = BODY_TIMEOUT_S
    max_json_depth: int = MAX_JSON_DEPTH

    def for_path(self, path: str) -> int:
        matches = [prefix for prefix in self.routes if path.startswith(prefix)]
        return self.routes[max(matches, key=len)] if matches else self.default


def json_too_deep(body: bytes, limit: int) -> bool:
    """Does this JSON text nest arrays and objects deeper than `limit`? (Malformed text is the parser's to refuse.)"""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # cannot nest deeper than it has brackets: the common case, at C speed
    depth = 0
    for match in _STRUCTURE.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


class _Refused(Exception):
    def __init__(self, status: int, detail: str, kind: str) -> None:
        self.status, self.detail, self.kind = status, detail, kind


class RequestLimits:
    """ASGI middleware enforcing BodyLimits on every HTTP request (see the module)."""

    def __init__(self, app: ASGIApp, limits: BodyLimits | None = None) -> None:
        self.app, self.limits = app, limits or BodyLimits()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read(scope, receive)
        except _Refused as refused:
            response = problem_response(refused.status, refused.detail, kind=refused.kind,
                                        headers={"Connection": "close"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive if body is None else _replay(body, receive), send)

    async def _read(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole body, checked; None when the request announces none (it is left to the app as it comes)."""
        limit = self.limits.for_path(scope["path"])
        headers = dict(scope["headers"])
        announced = headers.get(b"content-length")
        if announced is not None and announced.isdigit() and int(announced) > limit:
            raise _too_large(limit)
        if announced in (None, b"0") and b"transfer-encoding" not in headers:
            return None
        chunks, size = [], 0
        try:
            async with asyncio.timeout(self.limits.timeout_s):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        break
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        raise _too_large(limit)
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            raise _Refused(408, f"the request body did not arrive within {self.limits.timeout_s:g} s",
                           "body-timeout") from None
        body = b"".join(chunks)
        if _is_json(headers.get(b"content-type")) and json_too_deep(body, self.limits.max_json_depth):
            raise _Refused(400, f"the JSON body nests deeper than {self.limits.max_json_depth} levels; "
                           "no request here needs more than a few", "json-too-deep")
        return body


def _too_large(limit: int) -> _Refused:
    return _Refused(413, f"the request body is larger than this route takes ({limit} bytes)", "body-too-large")


def _is_json(content_type: bytes | None) -> bool:
    kind = (content_type or b"").partition(b";")[0].strip().lower()
    return kind == b"application/json" or (kind.startswith(b"application/") and kind.endswith(b"+json")) or not kind


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # e.g. the client disconnecting
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


