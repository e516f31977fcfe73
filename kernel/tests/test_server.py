"""How civitas serves HTTP (civitas_kernel.service.server), over real sockets: slow heads time out, a full server
makes room by closing the connections waiting longest, busy ones get 503, and forwarded headers are not the server's."""

from __future__ import annotations

import asyncio
import socket
import time

import httpx
import pytest
from fastapi import FastAPI, Request

from civitas_kernel.service.server import ServerLimits
from civitas_kernel.testing.serving import ServerThread


def app() -> FastAPI:
    made = FastAPI()

    @made.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @made.get("/slow")
    async def slow() -> dict:
        await asyncio.sleep(3)
        return {"status": "slow"}

    @made.get("/peer")
    def peer(request: Request) -> dict:
        return {"host": request.client.host if request.client else None}

    return made


@pytest.fixture
def serve():
    def start(**limits):
        server = ServerThread(ServerLimits(**limits))
        return server.serving(app())

    return start


def connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def closed_by_server(sock: socket.socket, within: float) -> bytes | None:
    """What the server sent before closing, or None if it kept the connection open for `within` seconds."""
    sock.settimeout(within)
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return received


def test_a_request_head_that_does_not_arrive_in_time_is_answered_408_and_closed(serve):
    with serve(HEADER_TIMEOUT_S=0.5) as url:
        sock = connect(url)
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        started = time.monotonic()
        answer = closed_by_server(sock, within=5)
        assert answer is not None and answer.startswith(b"HTTP/1.1 408")
        assert time.monotonic() - started < 2
        idle = connect(url)  # one that sends nothing at all
        assert closed_by_server(idle, within=5) is not None


def test_a_head_trickled_a_line_at_a_time_still_has_one_deadline(serve):
    with serve(HEADER_TIMEOUT_S=1) as url:
        sock = connect(url)
        sock.sendall(b"GET /health HTTP/1.1\r\n")
        started = time.monotonic()
        for i in range(8):
            time.sleep(0.25)
            try:
                sock.sendall(f"X-Slow-{i}: 1\r\n".encode())
            except OSError:
                break
        assert closed_by_server(sock, within=5) is not None
        assert time.monotonic() - started < 3


def test_an_idle_keep_alive_connection_is_closed(serve):
    with serve(KEEP_ALIVE_S=0.5) as url:
        sock = connect(url)
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        first = sock.recv(4096)
        assert first.startswith(b"HTTP/1.1 200")
        assert closed_by_server(sock, within=5) == b""


def test_a_full_server_closes_the_slowest_to_answer_the_new(serve):
    with serve(MAX_CONNECTIONS=20, HEADER_TIMEOUT_S=60) as url:
        slow = [connect(url) for _ in range(60)]
        for sock in slow:
            sock.sendall(b"GET /health HTTP/1.1\r\n")
        time.sleep(0.3)
        for _ in range(5):
            assert httpx.get(url + "/health", timeout=5).json() == {"status": "ok"}
        still_open = [sock for sock in slow if closed_by_server(sock, within=0.05) is None]
        assert len(still_open) < 20
        for sock in slow:
            sock.close()


def test_a_server_whose_every_connection_is_busy_answers_503(serve):
    with serve(MAX_CONNECTIONS=3) as url:
        busy = [connect(url) for _ in range(3)]
        for sock in busy:
            sock.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.3)
        answer = closed_by_server(connect(url), within=5)
        assert answer is not None and answer.startswith(b"HTTP/1.1 503") and b"retry-after: 1" in answer.lower()
        assert all(sock.recv(4096).startswith(b"HTTP/1.1 200") for sock in busy)  # the busy ones were kept


def test_an_oversized_request_head_is_refused(serve):
    with serve(MAX_HEAD_BYTES=2048) as url:
        sock = connect(url)
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 5000)
        answer = closed_by_server(sock, within=5)
        assert answer is not None and answer.startswith(b"HTTP/1.1 431")


def test_the_server_never_believes_forwarded_headers(serve):
    with serve() as url:
        answer = httpx.get(url + "/peer", headers={"X-Forwarded-For": "203.0.113.9"}).json()
    assert answer == {"host": "127.0.0.1"}
