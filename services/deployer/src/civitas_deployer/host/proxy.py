"""The public port: a TCP proxy the supervisor owns, handing each new connection to the live release's port.

Switching is one assignment (the target port), so every connection goes wholly to the old release or wholly to
the new one; connections already open finish on the release they started on, until that release is stopped.
"""

from __future__ import annotations

import asyncio
import threading

NOTHING_LIVE = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
                b"Connection: close\r\nContent-Length: 36\r\n\r\nThe site is starting; try again soon.")


class PublicProxy:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.target: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def switch(self, port: int | None) -> None:
        """From now on, new connections go to `port` (None: answer 503)."""
        self.target = port

    def start(self) -> None:
        """Listen on the public port in a thread of its own; raises OSError if the port is taken."""
        threading.Thread(target=self._run, name="public-proxy", daemon=True).start()
        self._ready.wait()
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        """Stop listening and drop the connections still open."""
        if self._loop is not None and self._server is not None:
            asyncio.run_coroutine_threadsafe(self._shut(), self._loop).result(10)

    async def _shut(self) -> None:
        self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        asyncio.get_running_loop().call_soon(asyncio.get_running_loop().stop)

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        try:
            self._server = loop.run_until_complete(asyncio.start_server(self._handle, self.host, self.port))
        except OSError as e:
            self._error = e
            self._ready.set()
            return
        if self.port == 0:
            self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        target = self.target  # read once: this connection keeps the release it started on
        if target is None:
            writer.write(NOTHING_LIVE)
            await _close(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            writer.write(NOTHING_LIVE)
            await _close(writer)
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        await asyncio.gather(_close(up_writer), _close(writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until end of file, then pass the end on (a half-closed request still gets its answer)."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        writer.transport.abort()


async def _close(writer: asyncio.StreamWriter) -> None:
    try:
        writer.close()
        await writer.wait_closed()
    except (ConnectionError, OSError):
        pass
