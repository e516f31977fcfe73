"""How every civitas process serves HTTP: uvicorn, with the limits a server facing the public needs.

uvicorn on its own keeps a connection that never finishes its request head open for ever, and
accepts connections until the process has no file descriptor left, so a few thousand slow clients
take a site down. Here (GuardedHttpToolsProtocol, uvicorn's httptools protocol with a guard):

- a request head must arrive whole within HEADER_TIMEOUT_S of the connection opening, or of its first
  byte after an idle keep-alive; else 408 and the connection is closed. A head is at most MAX_HEAD_BYTES.
- an idle keep-alive connection is closed after KEEP_ALIVE_S (uvicorn's own timer).
- at most MAX_CONNECTIONS connections are open (kept below the file descriptor limit, which is raised to
  its hard limit): a new one past it closes the connection that has waited longest for a request
  head (slow or idle); when every connection is busy with a request, the new one gets 503 and is closed.
  So a flood of slow clients cannot keep /health, or anyone, from being answered.
- uvicorn never reads forwarded headers (proxy_headers off): the gateway reads X-Forwarded-For itself,
  from the proxies CIVITAS_FORWARDED_ALLOW_IPS names only.

What a server cannot do for itself (a flood bigger than a process can accept, slow bodies at scale,
TLS) is the proxy's: ARCHITECTURE.md names its settings.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections import OrderedDict
from typing import Any

import uvicorn
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

FD_RESERVE = 64  # descriptors left for the log, the sign-in store, SMTP and calls to other services
PROTOCOL = f"{__name__}:GuardedHttpToolsProtocol"

log = logging.getLogger("civitas.server")


class ServerLimits(BaseSettings):
    """CIVITAS_MAX_CONNECTIONS, CIVITAS_HEADER_TIMEOUT_S, CIVITAS_KEEP_ALIVE_S, CIVITAS_MAX_HEAD_BYTES."""

    model_config = SettingsConfigDict(env_prefix="CIVITAS_", extra="ignore")

    MAX_CONNECTIONS: int = Field(2000, ge=2)  # open at once, per process
    HEADER_TIMEOUT_S: float = Field(10.0, gt=0)  # for a whole request head
    # Longer than callers keep idle connections (ServiceClient: 10 s), so a reused one is never closing.
    KEEP_ALIVE_S: float = Field(30.0, gt=0)
    MAX_HEAD_BYTES: int = Field(64 * 1024, ge=1024)  # request line and headers

    def connections_allowed(self) -> int:
        """MAX_CONNECTIONS, or fewer if the process may not open that many descriptors (after raising its limit)."""
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY or soft < hard:
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
                soft = hard
            except (ValueError, OSError):
                pass
        if soft == resource.RLIM_INFINITY:
            return self.MAX_CONNECTIONS
        return max(2, min(self.MAX_CONNECTIONS, soft - FD_RESERVE))


def _problem(status: int, reason: str, detail: str) -> bytes:
    body = (f'{{"type":"about:blank","title":"{reason}","status":{status},"detail":"{detail}"}}').encode()
    head = (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/problem+json\r\nconnection: close\r\n"
            f"content-length: {len(body)}\r\n" + ("retry-after: 1\r\n" if status == 503 else "") + "\r\n")
    return head.encode() + body


TIMED_OUT = _problem(408, "Request Timeout", "the request head did not arrive in time")
TOO_LARGE = _problem(431, "Request Header Fields Too Large", "the request head is too large")
FULL = _problem(503, "Service Unavailable", "the server is at its connection limit; try again in a moment")


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for request heads and a cap on open connections (see the module)."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.limits: ServerLimits = getattr(config, "civitas_limits", None) or ServerLimits()
        self.allowed: int = getattr(config, "civitas_connections_allowed", None) or self.limits.MAX_CONNECTIONS
        # Connections waiting for a request head, longest first: the ones to close when the server is full.
        self.waiting: OrderedDict[GuardedHttpToolsProtocol, None] = self.server_state.__dict__.setdefault(
            "civitas_waiting", OrderedDict())
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.allowed and not self._make_room():
            self.connections.discard(self)
            transport.write(FULL)
            transport.close()
            return
        self._wait_for_head(timed=True)

    def _make_room(self) -> bool:
        """Close the connection that has waited longest for a request head; False if none is waiting."""
        for other in self.waiting:
            if other is not self:
                other._drop(None)
                return True
        return False

    def _wait_for_head(self, *, timed: bool) -> None:
        self.waiting[self] = None
        self.waiting.move_to_end(self)
        self._head_bytes = 0
        if timed and self._head_timer is None:
            self._head_timer = self.loop.call_later(self.limits.HEADER_TIMEOUT_S, self._drop, TIMED_OUT)

    def _stop_waiting(self) -> None:
        self.waiting.pop(self, None)
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _drop(self, answer: bytes | None) -> None:
        self._stop_waiting()
        self.connections.discard(self)  # its place is free at once, before the transport has closed
        if not self.transport.is_closing():
            if answer:
                self.transport.write(answer)
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        waiting = self in self.waiting
        if waiting and self._head_timer is None:  # the first byte after an idle keep-alive: the head's clock starts
            self._wait_for_head(timed=True)
        super().data_received(data)
        if waiting and self in self.waiting:  # still no whole head: all of it was head
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.MAX_HEAD_BYTES:
                self._drop(TOO_LARGE)

    def on_headers_complete(self) -> None:
        self._stop_waiting()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._wait_for_head(timed=False)  # idle: keep-alive's timer runs until the next request's first byte

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)


def server_config(app: Any, *, host: str, port: int, limits: ServerLimits | None = None, **options: Any) -> uvicorn.Config:
    """uvicorn's Config for a civitas process: the guarded protocol, no forwarded headers, the limits in force."""
    limits = limits or ServerLimits()
    config = uvicorn.Config(app, host=host, port=port, http=PROTOCOL, proxy_headers=False,
                            timeout_keep_alive=limits.KEEP_ALIVE_S, **options)
    config.civitas_limits = limits  # type: ignore[attr-defined]  # read by each connection's protocol
    config.civitas_connections_allowed = limits.connections_allowed()  # type: ignore[attr-defined]
    return config


def run_server(config: uvicorn.Config) -> None:
    """Serve until stopped, in this process or in config.workers processes (as uvicorn.run does)."""
    from uvicorn.supervisors import Multiprocess

    server = uvicorn.Server(config)
    try:
        if config.workers > 1:
            Multiprocess(config, sockets=[config.bind_socket()]).run()
        else:
            server.run()
    except KeyboardInterrupt:  # uvicorn raises Ctrl-C again once it has shut down; stopping is what was asked
        pass
