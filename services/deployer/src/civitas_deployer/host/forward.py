"""One visitor's connection through the public port, request by request (h11 on both sides).

Each request goes to the release serving when its head arrived, so a kept-alive connection follows a switch instead
of failing with the release it was opened to. Each carries the visitor's address in X-Forwarded-For and the
supervisor's pass in Civitas-Supervisor, which together make the release count the visitor, not the proxy; whatever
a visitor sent in either header is dropped first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import h11

CHUNK = 65536
PASS_HEADER = b"civitas-supervisor"
DROPPED = frozenset({b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer", b"upgrade",
                     b"x-forwarded-for", b"x-forwarded-host", b"x-forwarded-proto", b"forwarded", PASS_HEADER})
NOT_PASSED_BACK = frozenset({b"connection", b"keep-alive", b"proxy-connection", b"trailer", b"upgrade"})


class Gone(Exception):
    """The release's side closed or broke before answering."""


class Side:
    """One end (visitor or release) of a connection: an h11 state machine over a stream."""

    def __init__(self, role, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, max_head: int) -> None:
        self.conn = h11.Connection(role, max_incomplete_event_size=max_head)
        self.reader, self.writer = reader, writer

    async def send(self, event) -> None:
        data = self.conn.send(event)
        if data:
            self.writer.write(data)
            await self.writer.drain()

    async def next_event(self, idle_s: float | None = None, head_s: float | None = None):
        """The next event; a visitor idle past idle_s, or sending a head slower than head_s, raises TimeoutError."""
        loop = asyncio.get_running_loop()
        deadline = None if idle_s is None else loop.time() + idle_s
        while (event := self.conn.next_event()) is h11.NEED_DATA:
            timeout = None if deadline is None else max(0.0, deadline - loop.time())
            data = await asyncio.wait_for(self.reader.read(CHUNK), timeout)
            if data and head_s is not None and self.conn.their_state is h11.IDLE:
                deadline, head_s = loop.time() + head_s, None  # a head began: it has head_s to arrive whole
            self.conn.receive_data(data)
        return event

    def close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()


class Release(Side):
    def __init__(self, port: int, reader, writer, max_head: int) -> None:
        super().__init__(h11.CLIENT, reader, writer, max_head)
        self.port = port

    def reusable(self, port: int) -> bool:
        return (self.port == port and self.conn.our_state is h11.IDLE and self.conn.their_state is h11.IDLE
                and not self.reader.at_eof() and not self.writer.is_closing())


def problem(status: int, text: str) -> tuple[h11.Response, h11.Data]:
    body = text.encode()
    return (h11.Response(status_code=status, headers=[("content-type", "text/plain; charset=utf-8"),
                                                      ("content-length", str(len(body))), ("connection", "close")]),
            h11.Data(data=body))


def request_for_release(request: h11.Request, visitor: str, supervisor_pass: bytes) -> h11.Request:
    headers = [(name, value) for name, value in request.headers if name not in DROPPED]
    if not any(name == b"host" for name, _ in headers):
        headers.append((b"host", b"localhost"))
    headers += [(b"x-forwarded-for", visitor.encode()), (PASS_HEADER, supervisor_pass)]
    return h11.Request(method=request.method, target=request.target, headers=headers, http_version="1.1")


def has_body(request: h11.Request) -> bool:
    for name, value in request.headers:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


class Exchange:
    """What the proxy does with one visitor's connection: serve(), request after request, until either side closes."""

    def __init__(self, visitor: Side, peer: tuple[str, int],
                 address_of: Callable[[tuple[str, int], list], Awaitable[str]], target: Callable[[], int | None],
                 supervisor_pass: bytes, *, idle_s: float, head_s: float, max_head: int, unavailable: str) -> None:
        """address_of(peer, request headers): the visitor's address (the peer's, or a trusted front proxy's word)."""
        self.visitor, self.peer, self.address_of, self.target = visitor, peer, address_of, target
        self.supervisor_pass = supervisor_pass
        self.idle_s, self.head_s, self.max_head, self.unavailable = idle_s, head_s, max_head, unavailable
        self.release: Release | None = None
        self.busy = False  # a request read and not yet answered (what a stopping proxy waits for)
        self.forwarding: int | None = None  # the release port a request is on its way to (what a switch waits for)

    async def serve(self) -> None:
        try:
            while await self._one():
                self.busy = False
                self.visitor.conn.start_next_cycle()
        except (ConnectionError, OSError, h11.LocalProtocolError):
            self.visitor.writer.transport.abort()
        finally:
            if self.release is not None:
                self.release.close()
            self.visitor.close()

    async def _one(self) -> bool:
        """One request answered; whether the connection may take another."""
        v = self.visitor
        try:
            request = await v.next_event(self.idle_s, self.head_s)
        except TimeoutError:
            if v.conn.their_state is h11.IDLE and not v.conn.trailing_data[0]:
                return False  # idle past keep-alive: closed quietly, as a server does
            await self._answer(*problem(408, "The request head did not arrive in time."))
            return False
        except h11.RemoteProtocolError as e:
            await self._answer(*problem(e.error_status_hint, "The request could not be read."))
            return False
        if not isinstance(request, h11.Request):
            return False  # the visitor closed
        self.busy = True
        if not has_body(request) and not isinstance(await v.next_event(), h11.EndOfMessage):
            return False  # a bodiless request ends at once (h11 says so in an event of its own)
        port = self.target()  # read once per request: this request goes wholly to one release
        if port is None:
            await self._answer(*problem(503, self.unavailable))
            return False
        self.forwarding = port
        try:
            await self._forward(request, port)
        finally:
            self.forwarding = None
        return v.conn.our_state is h11.DONE and v.conn.their_state is h11.DONE

    async def _answer(self, response: h11.Response, body: h11.Data) -> None:
        if self.visitor.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            await self.visitor.send(response)
            await self.visitor.send(body)
            await self.visitor.send(h11.EndOfMessage())

    async def _forward(self, request: h11.Request, port: int) -> None:
        address = await self.address_of(self.peer, list(request.headers))
        outgoing = request_for_release(request, address, self.supervisor_pass)
        body = has_body(request)
        kept = self.release
        if kept is not None and (body or not kept.reusable(port)):
            kept.close()
            kept = self.release = None
        if kept is not None:
            try:  # a kept connection the release closed meanwhile: the bodiless request once more on a new one
                return await self._relay(kept, outgoing, body=False)
            except Gone:
                kept.close()
                self.release = None
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await self._answer(*problem(503, self.unavailable))
            return
        self.release = Release(port, reader, writer, self.max_head)
        try:
            await self._relay(self.release, outgoing, body=body)
        except Gone:
            await self._answer(*problem(502, "The site did not answer; try again."))

    async def _relay(self, release: Release, outgoing: h11.Request, *, body: bool) -> None:
        """Send the request, pass its body on while the answer comes back, and the answer to the visitor."""
        v = self.visitor
        try:
            await release.send(outgoing)
            if not body:
                await release.send(h11.EndOfMessage())
        except (ConnectionError, OSError) as e:
            raise Gone() from e
        pump = asyncio.create_task(self._pump_body(release)) if body else None
        try:
            answered = False
            while True:
                try:
                    event = await release.next_event()
                except (ConnectionError, OSError, h11.RemoteProtocolError) as e:
                    if answered:
                        v.writer.transport.abort()
                        return
                    raise Gone() from e
                if isinstance(event, h11.ConnectionClosed):
                    if answered:
                        v.writer.transport.abort()
                        return
                    raise Gone()
                if isinstance(event, h11.InformationalResponse):
                    if event.status_code != 101:
                        await v.send(event)
                    continue
                if isinstance(event, h11.Response):
                    answered = True
                    headers = [(n, val) for n, val in event.headers if n not in NOT_PASSED_BACK]
                    await v.send(h11.Response(status_code=event.status_code, headers=headers, reason=event.reason))
                elif isinstance(event, h11.Data):
                    await v.send(event)
                elif isinstance(event, h11.EndOfMessage):
                    await v.send(h11.EndOfMessage())
                    break
        finally:
            if pump is not None and not pump.done():
                pump.cancel()  # answered before the whole body came: the connection closes (h11 will not reuse it)
                release.close()
        if release.conn.our_state is h11.DONE and release.conn.their_state is h11.DONE:
            release.conn.start_next_cycle()

    async def _pump_body(self, release: Release) -> None:
        try:
            while True:
                event = await self.visitor.next_event(self.head_s * 3)
                if isinstance(event, h11.Data):
                    await release.send(event)
                elif isinstance(event, h11.EndOfMessage):
                    await release.send(h11.EndOfMessage())
                    return
                else:
                    return
        except (ConnectionError, OSError, TimeoutError, h11.ProtocolError):
            release.writer.transport.abort()
