"""The counter reads the origins that reach its site only over HTTP from the sync service (its signed heads and
pages, served over real HTTP from the sync service's own log), every page checked against the origin's pinned key:
what a sync service alters, what another key signed, or a sync service of another site, is refused and adds
nothing."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import Response

from civitas_counter.origins import synced_origins
from civitas_counter.synced import SyncedOrigins
from civitas_kernel.service.problems import install_problem_handlers
from civitas_kernel.signers import KNOWN_SITES, write_known_sites
from civitas_kernel.signing import SiteKey
from civitas_kernel.sql import open_log
from civitas_kernel.testing.events import trust
from civitas_sync import Peer, sync_router
from civitas_sync.pulling import Puller

TOWN, VILLAGE, COUNTY = "town.example", "village.example", "county.example"
PAGE = 100  # small pages, so the town's events span several


class Site:
    def __init__(self, name: str, tmp_path, folder: str | None = None, key: SiteKey | None = None) -> None:
        self.name, self.home = name, tmp_path / (folder or name)
        self.home.mkdir()
        self.key = key or SiteKey.load_or_create(self.home / "site-key.pem")
        self.log = open_log(f"sqlite:///{self.home / 'log.sqlite'}", name, self.key)


def served(stack_server, site: Site) -> str:
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(sync_router(lambda: site.log, site.home, page_events=PAGE))
    return stack_server(app)


@pytest.fixture
def serve(server_thread):
    from contextlib import ExitStack

    with ExitStack() as stack:
        yield lambda app: stack.enter_context(server_thread().serving(app))


def fill(site: Site, start: int, n: int) -> None:
    for first in range(start, start + n, 50):
        site.log.append("trust", [trust(f"t{i}@{site.name}", f"u{i}@{site.name}") for i in range(first, first + 50)])


def pull(receiver: Site, sender: Site, url: str, keys: dict | None = None) -> None:
    """What the sync service does: pull from a sub-site over HTTP into its own log."""
    with httpx.Client(timeout=10) as client:
        report = Puller(receiver.log, Peer(sender.name, "sub", url, sender.key.public_key), keys or {}, client).run()
    assert not report.errors, report.errors


def held(log, origin: str) -> dict[str, int]:
    return {stream: head.seq for site, stream, head in log.streams() if site == origin}


@pytest.fixture
def network(tmp_path, serve, make_database_url):
    """A town (with a village below it) pulled over HTTP by the county's sync service; the county's counter replica
    on PostgreSQL."""
    town, village, sync = Site(TOWN, tmp_path), Site(VILLAGE, tmp_path), Site(COUNTY, tmp_path)
    fill(town, 0, 250)
    town.log.append("registration", [trust(f"r{i}@town.example", "x@town.example") for i in range(30)])
    fill(village, 0, 50)
    pull(town, village, served(serve, village))
    town_url = served(serve, town)
    pull(sync, town, town_url, keys={VILLAGE: village.key.public_key})  # the village relayed through the town
    replica = open_log(make_database_url("postgres"), COUNTY, sync.key)  # the counter signs with the site's key too
    return town, village, sync, replica, town_url


def test_the_counter_reads_an_origin_from_the_sync_service_page_by_page_verified(network, serve):
    town, village, sync, replica, town_url = network
    url = served(serve, sync)
    reader = SyncedOrigins(replica, url, {TOWN: town.key.public_key})
    assert reader.run_once() == {TOWN: 280}
    assert held(replica, TOWN) == {"registration": 30, "trust": 250} and reader.errors == {TOWN: None}
    assert replica.verify(site=TOWN).events == 280  # every hash, link and signature checked again
    assert held(replica, VILLAGE) == {}  # held by the sync service, but not named: not taken
    assert [(e.seq, e.hash) for e in replica.read("trust", site=TOWN)] == [
        (e.seq, e.hash) for e in town.log.read("trust")]

    fill(town, 250, 50)
    pull(sync, town, town_url, keys={VILLAGE: village.key.public_key})
    assert reader.run_once() == {TOWN: 50}  # from where the replica stands, not again from the start
    assert reader.run_once() == {TOWN: 0}
    assert held(replica, TOWN)["trust"] == 300

    relayed = SyncedOrigins(replica, url, {VILLAGE: village.key.public_key})
    assert relayed.run_once() == {VILLAGE: 50} and held(replica, VILLAGE) == {"trust": 50}
    assert relayed.status()[VILLAGE]["heads"] == {"registration": 0, "trust": 50}


def test_a_head_or_page_not_signed_with_the_pinned_key_adds_nothing(network, serve):
    town, _, sync, replica, _ = network
    reader = SyncedOrigins(replica, served(serve, sync), {TOWN: SiteKey.generate().public_key})
    assert reader.run_once() == {TOWN: 0}
    assert "forged" in reader.errors[TOWN]
    assert held(replica, TOWN) == {}


def test_what_a_sync_service_alters_on_the_way_is_refused(network, serve):
    town, _, sync, replica, _ = network
    honest = served(serve, sync)
    app = FastAPI()

    @app.get("/{path:path}")
    def altering(path: str, request: Request) -> Response:
        answer = httpx.get(f"{honest}/{path}", params=dict(request.query_params), timeout=10)
        body = answer.content
        if "/pages/" in path and b"t7@town.example" in body:
            body = body.replace(b"t7@town.example", b"t8@town.example", 1)  # one voter swapped for another
        return Response(body, status_code=answer.status_code, media_type=answer.headers.get("content-type"))

    reader = SyncedOrigins(replica, serve(app), {TOWN: town.key.public_key})
    reader.run_once()
    assert reader.errors[TOWN] and held(replica, TOWN).get("trust", 0) == 0  # the first page is refused whole
    assert held(replica, TOWN).get("registration") == 30  # the honest stream still arrives

    again = SyncedOrigins(replica, honest, {TOWN: town.key.public_key})
    assert again.run_once() == {TOWN: 250} and again.errors[TOWN] is None


def test_a_sync_service_serving_another_history_the_origin_signed_is_a_split_view(network, serve, tmp_path):
    town, _, sync, replica, _ = network
    assert SyncedOrigins(replica, served(serve, sync), {TOWN: town.key.public_key}).run_once() == {TOWN: 280}
    forked = Site(TOWN, tmp_path, "town-forked", key=town.key)  # the town signing a second history of its trust
    forked.log.append("trust", [trust(f"other{i}@town.example", "u@town.example") for i in range(100)])
    other = Site(COUNTY, tmp_path, "county-other", key=sync.key)
    pull(other, forked, served(serve, forked))
    reader = SyncedOrigins(replica, served(serve, other), {TOWN: town.key.public_key})
    assert reader.run_once() == {TOWN: 0}
    assert "split view" in reader.errors[TOWN]
    assert held(replica, TOWN)["trust"] == 250  # what the replica held stays; nothing of the other history


def test_a_sync_service_of_another_site_is_not_read(network, serve):
    town, _, _, replica, town_url = network
    reader = SyncedOrigins(replica, town_url, {TOWN: town.key.public_key})  # the town's own, not this site's
    assert reader.run_once() == {TOWN: 0}
    assert "not this site's sync service" in reader.errors[TOWN] and held(replica, TOWN) == {}


def test_the_synced_origins_setting_says_what_to_do(tmp_path):
    key = SiteKey.generate().public_key
    write_known_sites(tmp_path / KNOWN_SITES, {TOWN: key, VILLAGE: key})
    assert synced_origins(f"{TOWN}, {VILLAGE}", "http://sync", {}, tmp_path, COUNTY) == {TOWN: key, VILLAGE: key}
    assert synced_origins("", "", {}, tmp_path, COUNTY) == {}
    with pytest.raises(ValueError, match="needs CIVITAS_SYNC_URL"):
        synced_origins(TOWN, "", {}, tmp_path, COUNTY)
    with pytest.raises(ValueError, match="named in both"):
        synced_origins(TOWN, "http://sync", {TOWN: key}, tmp_path, COUNTY)
    with pytest.raises(ValueError, match="no key pinned for hamlet.example.*known-sites add"):
        synced_origins("hamlet.example", "http://sync", {}, tmp_path, COUNTY)
    with pytest.raises(ValueError, match="CIVITAS_COUNTER_SYNCED_ORIGINS names this site"):
        synced_origins(COUNTY, "http://sync", {}, tmp_path, COUNTY)


@pytest.fixture
def sync_service(tmp_path, serve, make_database_url):
    """The county's sync service as it runs (its worker pulling the town every 0.2 s, the routes served with the
    worker's mark of moved heads), over real HTTP; the counter's replica on PostgreSQL."""
    from civitas_sync import SyncOptions, SyncWorker, attach_peer

    town, sync = Site(TOWN, tmp_path), Site(COUNTY, tmp_path)
    fill(town, 0, 50)
    attach_peer(sync.home, COUNTY, Peer(TOWN, "sub", served(serve, town), town.key.public_key))
    worker = SyncWorker(sync.log, sync.home, SyncOptions(SYNC_EVERY_S=0.2))
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(sync_router(lambda: sync.log, sync.home, page_events=PAGE, moved=worker.moved))
    url = serve(app)
    worker.start()
    yield town, sync, url, open_log(make_database_url("postgres"), COUNTY, sync.key), worker
    worker.stop()


def reaches(log, origin: str, seq: int, within_s: float) -> float:
    """Seconds until `log` holds origin's trust up to `seq` (AssertionError past within_s)."""
    import time

    started = time.monotonic()
    while log.head("trust", site=origin).seq < seq:
        assert time.monotonic() - started < within_s, f"{origin}/trust not at {seq} within {within_s} s"
        time.sleep(0.01)
    return time.monotonic() - started


def test_what_the_sync_service_pulls_is_in_the_counters_replica_within_a_second_not_at_its_next_poll(sync_service):
    town, sync, url, replica, _ = sync_service
    reader = SyncedOrigins(replica, url, {TOWN: town.key.public_key}, every_s=20)  # a poll alone: seconds late
    reader.start()
    try:
        reaches(replica, TOWN, 50, within_s=10)
        for n in (100, 150, 200):  # each time the sync service pulls, its held heads answer the counter at once
            fill(town, n - 50, 50)
            reaches(sync.log, TOWN, n, within_s=10)
            assert reaches(replica, TOWN, n, within_s=1.0) < 1.0
        assert reader.errors[TOWN] is None and replica.verify(site=TOWN).events == 200
        assert reader.status()[TOWN]["held"]  # said in the counter's /ready
    finally:
        reader.stop()


def test_the_counter_still_reads_what_it_was_not_told_of_at_its_poll(sync_service, serve, tmp_path):
    """Correctness never depends on being told: events added to the sync service's log by another process move no
    mark there, and a sync service that does not hold the heads is polled; either way the counter comes as far."""
    town, sync, url, replica, worker = sync_service
    reader = SyncedOrigins(replica, url, {TOWN: town.key.public_key}, every_s=1)
    reader.start()
    try:
        reaches(replica, TOWN, 50, within_s=10)
        worker.stop()  # nothing in the sync service's process adds now: its mark stands still
        mark = httpx.get(url + "/sync/v1/heads", timeout=10).json()["moved"]
        other = open_log(f"sqlite:///{sync.home / 'log.sqlite'}", COUNTY, sync.key)  # as `civitas sync pull` would
        fill(town, 50, 50)
        with httpx.Client(timeout=10) as client:
            Puller(other, Peer(TOWN, "sub", served(serve, town), town.key.public_key), {}, client).run()
        assert sync.log.head("trust", site=TOWN).seq == 100
        assert reaches(replica, TOWN, 100, within_s=5) > 0  # at the bounded wait's end, at the latest
        assert httpx.get(url + "/sync/v1/heads", timeout=10).json()["moved"] == mark  # it was never told
    finally:
        reader.stop()

    stripped = FastAPI()  # a sync service of before the held heads: no mark, so it is polled every every_s

    @stripped.get("/{path:path}")
    def plain(path: str, request: Request) -> Response:
        answer = httpx.get(f"{url}/{path}", params=dict(request.query_params), timeout=10)
        if path.endswith("heads"):
            body = answer.json()
            body.pop("moved")
            return Response(json.dumps(body), media_type="application/json")
        return Response(answer.content, status_code=answer.status_code, media_type=answer.headers.get("content-type"))

    fresh = open_log(f"sqlite:///{tmp_path / 'replica.sqlite'}", COUNTY, sync.key)
    polled = SyncedOrigins(fresh, serve(stripped), {TOWN: town.key.public_key}, every_s=0.5)
    polled.start()
    try:
        reaches(fresh, TOWN, 100, within_s=10)
        assert polled.status()[TOWN]["held"] is False
        fill(town, 100, 50)
        pull(sync, town, served(serve, town))
        reaches(fresh, TOWN, 150, within_s=5)
    finally:
        polled.stop()
