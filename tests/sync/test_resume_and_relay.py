"""A receiver killed with SIGKILL mid-sync resumes from its own head; a relay that alters an event is refused.

The origin is `civitas serve sync` over a log the test fills; the receiver is `civitas sync pull`; between them a
relay in the test process that records what is asked of it (and, in one test, alters an event)."""

from __future__ import annotations

import signal
import subprocess
import threading
import time

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import Response

from civitas_kernel.testing.events import trust

from .conftest import CIVITAS, wait_until

PAGE = 10_000  # the protocol's page size


def fill(site, events: int) -> None:
    log = site.open_log()
    for start in range(0, events, 10_000):
        log.append("trust", [trust(f"t{i}@example.org", "u@example.org") for i in range(start, start + 10_000)])


class Relay:
    """Passes sync requests through to `origin`, recording the first position each page request asks for."""

    def __init__(self, origin: str, delay_s: float = 0.0, alter: tuple[int, bytes, bytes] | None = None) -> None:
        self.origin, self.delay_s, self.alter = origin, delay_s, alter
        self.asked: list[int] = []
        self.lock = threading.Lock()
        self.app = FastAPI()
        self.app.get("/sync/v1/{rest:path}")(self.passthrough)

    def passthrough(self, rest: str, request: Request) -> Response:
        params = dict(request.query_params)
        answer = httpx.get(f"{self.origin}/sync/v1/{rest}", params=params, timeout=30)
        body = answer.content
        if rest.startswith("pages/"):
            page = int(rest.rsplit("/", 1)[1])
            with self.lock:
                self.asked.append(int(params["after"]) + 1 if "after" in params else (page - 1) * PAGE + 1)
            time.sleep(self.delay_s)
            if self.alter and page == self.alter[0]:
                body = body.replace(self.alter[1], self.alter[2])
        return Response(body, status_code=answer.status_code, media_type=answer.headers.get("content-type"))


def setup(sites, server_thread, events: int, **relay):
    origin, receiver = sites("town.example"), sites("county.example")
    fill(origin, events)
    origin.serve_sync()
    bridge = Relay(origin.url, **relay)
    serving = server_thread().serving(bridge.app)
    url = serving.__enter__()
    receiver.attach(origin, "sub", url)
    return origin, receiver, bridge, serving


@pytest.mark.slow
def test_a_receiver_killed_mid_sync_resumes_without_asking_again_for_what_it_applied(sites, server_thread):
    origin, receiver, relay, serving = setup(sites, server_thread, 60_000, delay_s=0.4)
    try:
        pulling = subprocess.Popen([CIVITAS, "sync", "pull"], env=receiver.env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        log = receiver.open_log()
        wait_until(lambda: log.head("trust", site=origin.name).seq >= 2 * PAGE, timeout_s=60,
                   what="two pages applied")
        pulling.send_signal(signal.SIGKILL)
        pulling.communicate()
        applied = log.head("trust", site=origin.name).seq
        assert 2 * PAGE <= applied < 60_000 and applied % PAGE == 0  # a page is applied whole or not at all
        relay.asked.clear()
        relay.delay_s = 0
        done = receiver.civitas("sync", "pull")
        assert f"{origin.name}: {60_000 - applied} new events" in done.stdout
        assert relay.asked and min(relay.asked) == applied + 1  # nothing applied was asked for again
        assert log.head("trust", site=origin.name).seq == 60_000
        assert log.verify(site=origin.name).events == 60_000
    finally:
        serving.__exit__(None, None, None)


@pytest.mark.slow
def test_a_relay_that_alters_an_event_is_refused_and_the_honest_prefix_kept(sites, server_thread):
    origin, receiver, relay, serving = setup(sites, server_thread, 30_000,
                                             alter=(2, b"t15000@example.org", b"t15000@exampla.org"))
    try:
        done = receiver.civitas("sync", "pull")
        assert "tampered" in done.stdout and "position 15001" in done.stdout
        log = receiver.open_log()
        assert log.head("trust", site=origin.name).seq == PAGE  # the page before the forgery stays
        status = receiver.civitas("sync", "status", "--json").stdout
        assert "tampered" in status and '"lag": 20000' in status
        receiver.civitas("sync", "detach", origin.name)
        receiver.attach(origin, "sub")  # the honest origin itself
        assert f"{origin.name}: 20000 new events" in receiver.civitas("sync", "pull").stdout
    finally:
        serving.__exit__(None, None, None)
