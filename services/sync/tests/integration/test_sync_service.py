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
