"""Where a site stands in its network, as its network page draws it (the page itself, in the site's layout, is
tests/sync/test_network_pages.py): the graph of peers with each edge's lag, and the warnings an operator must
see — a site behind, a stream frozen after a split view, a peer whose key does not match, a peer that is down."""

from __future__ import annotations

import httpx

from civitas_kernel.testing.events import trust

from civitas_sync.config import attach_peer, detach_peer
from civitas_sync.settings import SyncOptions
from civitas_sync.worker import SyncWorker

from .test_pull import fill


def round_of(site) -> None:
    SyncWorker(site.log, site.home, SyncOptions(SYNC_BACKOFF_BASE_S=60)).run_once(force=True)


def test_the_network_overview_draws_the_peers_and_warns_of_lag_split_views_key_mismatch_and_silence(make_site):
    town, village, county = make_site("town.example"), make_site("village.example"), make_site("county.example")
    peripheral = make_site("p.example")
    impostor = make_site("city.example", folder="impostor")  # answers as city.example, with another key
    city = make_site("city.example", serve=False, folder="city")
    forked = make_site("village.example", key_from=village, folder="village-restored")
    fill(town)
    fill(village, trusts=100)
    fill(impostor, trusts=50)
    for peer in (town.as_peer("sub"), village.as_peer("sub"), city.as_peer("sub", impostor.url),
                 peripheral.as_peer("peripheral"), make_site("state.example", serve=False).as_peer("super", DEAD)):
        attach_peer(county.home, county.name, peer)
    attach_peer(peripheral.home, peripheral.name, county.as_peer("source"))
    attach_peer(peripheral.home, peripheral.name, town.as_peer("sub", DEAD))  # pins the town's key only
    round_of(county)
    round_of(peripheral)  # the peripheral site takes the county's public input, the town's trust among it
    town.log.append("trust", [trust(f"late{i}@example.org", "x@example.org") for i in range(7)])
    forked.log.append("trust", [trust("other@example.org", "x@example.org")])
    detach_peer(county.home, county.name, village.name)
    attach_peer(county.home, county.name, village.as_peer("sub", forked.url))  # the village now serves a fork
    round_of(county)  # the county takes the 7; the peripheral site has not yet

    overview = httpx.get(f"{county.url}/sync/v1/network").json()
    warnings = "\n".join(overview["warnings"])
    assert "p.example is behind this site by 7 events (town.example/trust 7)" in warnings
    assert "split view: village.example/trust" in warnings and "village.example/trust is frozen" in warnings
    assert "key mismatch: city.example" in warnings
    assert "state.example does not answer" in warnings

    counting = "\n".join(overview["counting"])  # what the voters' pages say: only what this site receives
    assert "city.example answers with another key" in counting and "village.example showed two different" in counting
    assert "p.example" not in counting and "state.example" not in counting  # they pull from it: its counts stand
    states = {p["site"]: p["state"] for p in overview["peers"]}
    assert states["village.example"] == "down" and states["p.example"] == "behind" and states["town.example"] == "ok"
    town_trust = next(s for p in overview["peers"] for s in p["streams"] if s["stream"] == "town.example/trust")
    assert (town_trust["here"], town_trust["there"], town_trust["lag"]) == (257, 257, 0)
    svg = httpx.get(f"{county.url}/sync/v1/network.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and "<svg" in svg.text
    assert '<text' in svg.text and 'class="lag behind" data-peer="p.example">lag 7<' in svg.text
    assert 'data-peer="state.example">unreachable<' in svg.text and 'data-peer="village.example">frozen<' in svg.text


DEAD = "http://127.0.0.1:9"  # nothing listens there
