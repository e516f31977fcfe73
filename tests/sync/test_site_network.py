"""Three sites as separate `civitas up` processes: a town under a county, and a peripheral site fed by the county."""

from __future__ import annotations

import json

import pytest

from .conftest import wait_until

TOWN, COUNTY, PERIPHERAL = "town.example", "county.example", "p.example"


def voters(site, *lines: str) -> None:
    site.civitas("voter", stdin="\n".join(lines) + "\n")


@pytest.mark.slow
def test_registration_and_trust_go_up_the_public_input_goes_out_and_doubt_stays(sites):
    town, county, peripheral = sites(TOWN), sites(COUNTY), sites(PERIPHERAL)
    town.civitas("poll", "create", "town-poll")
    sim = town.civitas("sim", "ab", "1-3").stdout.replace("test-poll", "town-poll")
    voters(town, sim, "a1@sim.example.org register trust a2@sim.example.org",
           "a1@sim.example.org register doubt b1@sim.example.org never met")
    county.civitas("poll", "create", "county-poll")
    voters(county, "c1@county.example register set residence 1 High St, County C1000",
           "c1@county.example county-poll vote c1@county.example")
    town.attach(county, "super")
    county.attach(town, "sub")
    county.attach(peripheral, "peripheral")
    peripheral.attach(county, "source")
    peripheral.civitas("known-sites", "add", TOWN, town.key)  # town's events reach it through the county
    for site in (town, county, peripheral):
        site.up()

    wanted = {k: v for k, v in town.heads().items() if k[0] == TOWN and k[1] in ("registration", "trust")}
    assert wanted and (TOWN, "doubt") in town.heads()
    wait_until(lambda: wanted.items() <= peripheral.heads().items(), what="the town's trust reaching the peripheral")
    voters(town, "b2@sim.example.org register trust b3@sim.example.org")  # written while all three run
    wanted[(TOWN, "trust")] += 1
    wait_until(lambda: wanted.items() <= peripheral.heads().items(), what="a new trust reaching the peripheral")

    at_county, at_peripheral = county.heads(), peripheral.heads()
    assert wanted.items() <= at_county.items()
    assert {k for k in at_county if k[0] == TOWN} == set(wanted)  # no doubt, no poll, no vote from the town
    assert {k for k in at_peripheral if k[0] == TOWN} == set(wanted)
    assert at_peripheral[(COUNTY, "vote")] == county.heads()[(COUNTY, "vote")]  # the county's public input
    assert not any(stream == "doubt" for site, stream in at_peripheral if site != PERIPHERAL)
    status = county.civitas("sync", "status", "--json").stdout
    assert '"lag": 0' in status and f'"stream": "{TOWN}/trust"' in status
    wait_until(lambda: '"lag": 0' in town.civitas("sync", "status", "--json").stdout, what="the town seeing the county")
    seen = [r for r in json.loads(town.civitas("sync", "status", "--json").stdout) if r["stream"] == f"{TOWN}/trust"]
    assert [(r["peer"], r["head"], r["lag"]) for r in seen] == [(COUNTY, wanted[(TOWN, "trust")], 0)]
    peripheral.civitas("log", "verify")  # every event received verifies where it landed
