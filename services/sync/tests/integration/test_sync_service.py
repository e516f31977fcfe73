"""`civitas serve sync` as an app: its pages over the site's log, and its worker pulling from a sub-site."""

from __future__ import annotations

import io
import time

import httpx

from civitas_kernel.segment import SegmentReader
from civitas_kernel.service.serve import entry_of
from civitas_kernel.testing.events import trust

from civitas_sync.config import attach_peer
from civitas_sync.http import create_sync_app
from civitas_sync.settings import SyncSettings


def test_the_sync_service_serves_its_log_and_pulls_from_its_sub_sites(tmp_path, make_site, server_thread):
    town = make_site("town.example")
    town.log.append("trust", [trust(f"t{i}@example.org", "u@example.org") for i in range(120)])
    home = tmp_path / "county-home"
    settings = SyncSettings(SERVICE="sync", HOME=home, SITE="county.example", SYNC_EVERY_S=0.1)
    attach_peer(home, "county.example", town.as_peer("sub"))
    assert entry_of("sync").create_app is create_sync_app
    with server_thread().serving(create_sync_app(settings)) as url:
        assert httpx.get(url + "/health").json() == {"status": "ok", "site": "county.example"}
        assert httpx.get(url + "/ready").json()["status"] == "ready"  # its log answers (the chart's readiness probe)
        deadline = time.monotonic() + 15
        while not [s for s in httpx.get(url + "/sync/v1/heads").json()["streams"] if s["origin"] == "town.example"]:
            assert time.monotonic() < deadline, "the service's worker did not pull from its sub-site"
            time.sleep(0.1)
        (held,) = httpx.get(url + "/sync/v1/heads").json()["streams"]
        assert (held["origin"], held["stream"], held["seq"]) == ("town.example", "trust", 120)
        page = httpx.get(f"{url}/sync/v1/pages/town.example/trust/1")  # re-served, under the town's signature
        assert page.status_code == 200 and page.headers["cache-control"] == "no-store"  # not a whole page yet
        assert SegmentReader(io.BytesIO(page.content), public_key=town.key.public_key).verify().events == 120


def test_a_held_heads_request_is_answered_when_a_head_moves_and_at_its_bound_otherwise(make_site):
    """GET /sync/v1/heads?wait=S&seen=MARK: held while nothing moves past MARK, for at most S seconds; a stale mark
    (another process's, an older answer's) is answered at once; a bound past 30 s, or a long mark, is refused."""
    import threading

    town = make_site("town.example")
    town.log.append("trust", [trust("a@example.org", "u@example.org")])
    first = httpx.get(town.url + "/sync/v1/heads").json()
    started = time.monotonic()
    held = httpx.get(town.url + "/sync/v1/heads", params={"wait": 0.6, "seen": first["moved"]}, timeout=10).json()
    assert time.monotonic() - started >= 0.5 and held["moved"] == first["moved"]  # nothing moved: at the bound
    started = time.monotonic()
    httpx.get(town.url + "/sync/v1/heads", params={"wait": 10, "seen": "an-old-mark"}, timeout=20)
    assert time.monotonic() - started < 2  # not the mark now: answered at once

    timer = threading.Timer(0.3, lambda: town.log.append("trust", [trust("b@example.org", "u@example.org")]))
    timer.start()
    started = time.monotonic()
    moved = httpx.get(town.url + "/sync/v1/heads", params={"wait": 10, "seen": first["moved"]}, timeout=20).json()
    timer.join()
    assert time.monotonic() - started < 2 and moved["moved"] != first["moved"]
    assert [s["seq"] for s in moved["streams"] if s["stream"] == "trust"] == [2]  # read after the move
    for params in ({"wait": 31, "seen": "x"}, {"wait": 1, "seen": "x" * 65}):
        assert httpx.get(town.url + "/sync/v1/heads", params=params).status_code == 422
