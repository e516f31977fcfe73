"""List rules carry a version signed with them: a receiver keeps the highest it has seen of each origin, and an older
set a relay still serves is refused and said — on the network overview and in `civitas sync status`'s state —
never applied."""

from __future__ import annotations

import httpx

from civitas_kernel.list_rules import check_list_rules

from civitas_sync.config import attach_peer
from civitas_sync.rules import held_rules
from civitas_sync.settings import SyncOptions
from civitas_sync.state import load_state
from civitas_sync.worker import SyncWorker

from .test_pull import fill


def round_of(site) -> None:
    SyncWorker(site.log, site.home, SyncOptions(SYNC_BACKOFF_BASE_S=60)).run_once(force=True)


def test_a_relay_serving_an_origins_older_rules_is_refused_and_the_later_kept(make_site):
    town_rules = {"pre_registration_min": 0, "range_prefix": None}
    town = make_site("town.example", rules=lambda: dict(town_rules))
    county, peripheral = make_site("county.example"), make_site("p.example")
    fill(town, trusts=50)
    attach_peer(county.home, county.name, town.as_peer("sub"))
    attach_peer(peripheral.home, peripheral.name, county.as_peer("source"))
    attach_peer(peripheral.home, peripheral.name, town.as_peer("sub"))
    round_of(county)  # the county holds the town's first rules, and relays them
    first = held_rules(county.home)("town.example")
    assert first["rules"] == town_rules and first["version"] >= 1

    heads = httpx.get(f"{town.url}/sync/v1/heads").json()["rules"]
    assert heads == httpx.get(f"{town.url}/sync/v1/heads").json()["rules"]  # the same statement while rules stay
    town_rules["pre_registration_min"] = 3  # the town changes its rules: signed under a higher version
    later = httpx.get(f"{town.url}/sync/v1/heads").json()["rules"][0]
    assert later["version"] > first["version"]
    check_list_rules(later, town.key.public_key)

    round_of(peripheral)  # from the county (the first rules) and from the town (the later), in either order
    round_of(peripheral)  # the county still serves the first: refused now that the later is held
    held = held_rules(peripheral.home)("town.example")
    assert held["rules"]["pre_registration_min"] == 3 and held["version"] == later["version"]
    refused = load_state(peripheral.home).of("county.example").refused_rules
    assert refused == [f"town.example's list rules of version {first['version']} are older than version "
                       f"{later['version']} held here: refused, the later kept"]
    warnings = httpx.get(f"{peripheral.url}/sync/v1/network").json()["warnings"]
    assert f"list rules served by county.example refused: {refused[0]}" in warnings

    round_of(county)  # the county takes the later rules from the town; it relays them, and nothing is refused
    round_of(peripheral)
    assert load_state(peripheral.home).of("county.example").refused_rules == []
    assert not any("list rules" in w for w in httpx.get(f"{peripheral.url}/sync/v1/network").json()["warnings"])
