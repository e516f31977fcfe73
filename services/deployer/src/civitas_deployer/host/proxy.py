"""The public port: an HTTP proxy the supervisor owns, handing each request to the live release's port.

Switching is one assignment (the target port), so every request goes wholly to the old release or wholly to the new
one, and a kept-alive connection's next request goes to the release serving then (forward.py). The release counts
the visitor by the address the proxy names with the supervisor's pass (`supervisor_pass`, written for each release
to a file only the site's user reads), so one visitor's flood spends that visitor's rate limit alone.

At a handover the port is not closed: the old supervisor passes its listening socket to the new one (handover.py),
which accepts on it only once its own release serves (`open()`); the old one then stops accepting, lets the requests
it is answering finish (`stop(drain_s)`), and the port never refuses a visitor or answers 503 meanwhile.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import threading
import time

import h11
from pydantic_settings import BaseSettings, SettingsConfigDict
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from civitas_kernel.service.server import ServerLimits

from civitas_deployer.host.forward import Exchange, Side

NOTHING_LIVE = "The site is starting; try again soon."


class ProxySettings(BaseSettings):
    """CIVITAS_FORWARDED_ALLOW_IPS: proxies in front of the public port whose X-Forwarded-For names the visitor."""

    model_config = SettingsConfigDict(env_prefix="CIVITAS_", extra="ignore")

    FORWARDED_ALLOW_IPS: str = ""


async def _nothing(scope, receive, send) -> None:
    pass


class PublicProxy:
    def __init__(self, host: str, port: int, limits: ServerLimits | None = None,
                 forwarded_allow_ips: str | None = None, sock: socket.socket | None = None) -> None:
        """sock: the port's listening socket, handed over by the supervisor before (else host:port is bound)."""
        self.host, self.port, self._sock = host, port, sock
        trusted = ProxySettings().FORWARDED_ALLOW_IPS if forwarded_allow_ips is None else forwarded_allow_ips
        # uvicorn's reading of X-Forwarded-For, from the proxies named only (none by default: the peer is the visitor)
        self._front = ProxyHeadersMiddleware(_nothing, trusted_hosts=trusted) if trusted else None
        self.limits = limits or ServerLimits()  # the same head, keep-alive and head-size limits as a release's
        self.supervisor_pass = secrets.token_urlsafe(32)  # per supervisor: what makes a release believe the proxy
        self.target: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._exchanges: set[Exchange] = set()

    def switch(self, port: int | None) -> None:
        """From now on, requests go to `port` (None: answer 503)."""
        self.target = port

    def quiet(self, port: int, within_s: float) -> None:
        """Wait up to within_s until no request is on its way to `port` (switched away from): a release stopped
        with one just connected would close it unanswered (a 502 to its visitor)."""
        deadline = time.monotonic() + within_s
        while self._loop is not None and self._server is not None and time.monotonic() < deadline:
            if not asyncio.run_coroutine_threadsafe(self._forwarding(port), self._loop).result(10):
                return
            time.sleep(0.02)

    async def _forwarding(self, port: int) -> bool:
        return any(exchange.forwarding == port for exchange in self._exchanges)

    def start(self, serving: bool = True) -> None:
        """Listen on the public port in a thread of its own; raises OSError if the port is taken. serving=False:
        bound, but nothing accepted until open() (connections wait in the backlog, or another holder takes them)."""
        threading.Thread(target=self._run, args=(serving,), name="public-proxy", daemon=True).start()
        self._ready.wait()
        if self._error is not None:
            raise self._error

    def open(self) -> None:
        """Accept from now on (nothing to do when it already does)."""
        if self._loop is not None and self._server is not None and not self._server.is_serving():
            asyncio.run_coroutine_threadsafe(self._server.start_serving(), self._loop).result(10)

    def listening_fd(self) -> int | None:
        """The listening socket's descriptor, to hand over (None: not listening)."""
        return self._server.sockets[0].fileno() if self._server is not None and self._server.sockets else None

    def stop(self, drain_s: float = 0.0) -> None:
        """Stop listening and drop the connections still open; drain_s: first wait up to that long for the requests
        being answered to finish (a connection idle between requests is dropped, as a server ends a kept-alive one)."""
        if self._loop is None or self._server is None:
            return
        if drain_s > 0:
            self._loop.call_soon_threadsafe(self._server.close)
            deadline = time.monotonic() + drain_s
            while time.monotonic() < deadline and asyncio.run_coroutine_threadsafe(
                    self._answering(), self._loop).result(10):
                time.sleep(0.05)
        asyncio.run_coroutine_threadsafe(self._shut(), self._loop).result(10)
        self._server = None  # stopped once: a second stop() has nothing to do

    async def _answering(self) -> bool:
        """Whether a request is being answered (read in the proxy's own thread, where connections come and go)."""
        return any(exchange.busy for exchange in self._exchanges)

    async def _shut(self) -> None:
        self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        asyncio.get_running_loop().call_soon(asyncio.get_running_loop().stop)

    def _run(self, serving: bool) -> None:
        loop = self._loop = asyncio.new_event_loop()
        where = {"sock": self._sock} if self._sock is not None else {"host": self.host, "port": self.port}
        try:
            self._server = loop.run_until_complete(asyncio.start_server(self._handle, start_serving=serving, **where))
        except OSError as e:
            self._error = e
            self._ready.set()
            return
        if self.port == 0 or self._sock is not None:
            self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        visitor = Side(h11.SERVER, reader, writer, self.limits.MAX_HEAD_BYTES)
        exchange = Exchange(visitor, (str(peer[0]), peer[1]), self._visitor, lambda: self.target,
                            self.supervisor_pass.encode(), idle_s=self.limits.KEEP_ALIVE_S,
                            head_s=self.limits.HEADER_TIMEOUT_S, max_head=self.limits.MAX_HEAD_BYTES,
                            unavailable=NOTHING_LIVE)
        self._exchanges.add(exchange)
        try:
            await exchange.serve()
        finally:
            self._exchanges.discard(exchange)

    async def _visitor(self, peer: tuple[str, int], headers: list[tuple[bytes, bytes]]) -> str:
        """Who sent a request: its peer, or whom a proxy in front that CIVITAS_FORWARDED_ALLOW_IPS names forwards."""
        if self._front is None:
            return peer[0]
        scope = {"type": "http", "client": peer, "headers": headers}
        await self._front(scope, None, None)  # sets scope["client"] from X-Forwarded-For if the peer is trusted
        return scope["client"][0]
