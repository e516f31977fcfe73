"""The public port handed from one supervisor's proxy to the next, with real sockets: the listening socket passed by
SCM_RIGHTS, the new proxy accepting only once opened, the old one finishing the request it is answering before it
stops, and no visitor refused or answered by anything but a release meanwhile."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from civitas_deployer.host.proxy import PublicProxy


def release(name: str, delay_s: float = 0.0) -> ThreadingHTTPServer:
    """A stand-in for a release's site: answers every GET with its name, /slow after delay_s (`.slow` set once
    one arrived)."""
    arrived = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/slow":
                arrived.set()
                time.sleep(delay_s)
            body = name.encode()
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.slow = arrived
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def passed(fd: int) -> socket.socket:
    """The socket `fd` names, as the new supervisor receives it over the handover socket."""
    old_side, new_side = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with old_side, new_side:
        socket.send_fds(old_side, [b"go\n"], [fd])
        message, fds, _, _ = socket.recv_fds(new_side, 16, 1)
    assert message == b"go\n"
    return socket.socket(fileno=fds[0])


@pytest.fixture
def releases():
    made = [release("old", delay_s=1.5), release("new")]
    yield made
    for server in made:
        server.shutdown()


def test_the_port_is_handed_over_without_a_refusal_and_the_old_one_finishes_what_it_answers(releases):
    old_release, new_release = releases
    old = PublicProxy("127.0.0.1", 0)
    old.start()
    old.switch(old_release.server_address[1])
    base = f"http://127.0.0.1:{old.port}"
    new = PublicProxy("127.0.0.1", 0, sock=passed(old.listening_fd()))
    new.start(serving=False)  # bound, accepting nothing: the old one answers every visitor
    new.switch(new_release.server_address[1])
    try:
        assert new.port == old.port
        assert {httpx.get(base + "/", timeout=10).text for _ in range(20)} == {"old"}
        slow: list[httpx.Response] = []
        in_flight = threading.Thread(target=lambda: slow.append(httpx.get(base + "/slow", timeout=10)))
        in_flight.start()
        assert old_release.slow.wait(10)  # the slow request is being answered by the old release
        new.open()
        stopping = threading.Thread(target=old.stop, kwargs={"drain_s": 10})
        stopping.start()
        answers = []
        while stopping.is_alive():  # new connections meanwhile: each answered by one release or the other
            answers.append(httpx.get(base + "/", timeout=10).text)
        stopping.join()
        in_flight.join()
        assert slow[0].status_code == 200 and slow[0].text == "old"  # finished, not cut
        assert answers and set(answers) <= {"old", "new"}
        assert {httpx.get(base + "/", timeout=10).text for _ in range(20)} == {"new"}  # the old one stopped
    finally:
        old.stop()
        new.stop()


def test_a_proxy_stopped_twice_does_nothing_the_second_time():
    proxy = PublicProxy("127.0.0.1", 0)
    proxy.start()
    proxy.stop()
    started = time.monotonic()
    proxy.stop()  # at a handover the port is stopped before the rest, then again with them
    assert time.monotonic() - started < 1 and proxy.listening_fd() is None


def test_a_switch_waits_for_the_request_on_its_way_to_the_release_before_it_is_stopped(releases):
    old, new = releases
    proxy = PublicProxy("127.0.0.1", 0)
    proxy.start()
    try:
        proxy.switch(old.server_address[1])
        base, answered = f"http://127.0.0.1:{proxy.port}", []
        slow = threading.Thread(target=lambda: answered.append(httpx.get(base + "/slow", timeout=10).text))
        slow.start()
        assert old.slow.wait(5)  # the old release has it, and answers in 1.5 s
        proxy.switch(new.server_address[1])
        assert httpx.get(base + "/", timeout=10).text == "new"  # what comes after the switch goes to the new one
        started = time.monotonic()
        proxy.quiet(old.server_address[1], within_s=10)  # what HostRunner.switch waits for before stopping it
        assert time.monotonic() - started > 0.5  # until the old release answered it
        slow.join(10)
        assert answered == ["old"]
        started = time.monotonic()
        proxy.quiet(old.server_address[1], within_s=10)  # nothing on its way: at once
        assert time.monotonic() - started < 0.5
    finally:
        proxy.stop()
