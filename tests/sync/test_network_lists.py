"""What the network is for, with sites as OS processes: a voter registered on a sub-site is on its super-site's list
(traced from the sub-site, by the sub-site's own signed rules) and counted in the super-site's polls; a peripheral
site's list holds its source's voters; and `civitas audit` recounts every part of such a list from its archive."""

from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass

import pytest

from .conftest import SiteProcess

TOWN, COUNTY, PERIPHERAL = "town.example", "county.example", "p.example"


@dataclass
class RuledSite(SiteProcess):
    """A site with list rules of its own (CIVITAS_PRE_REGISTRATION_MIN)."""

    pre_registration_min: int = 0

    @property
    def env(self) -> dict[str, str]:
        return super().env | {"CIVITAS_PRE_REGISTRATION_MIN": str(self.pre_registration_min)}


def rows(site) -> dict[str, dict]:
    """The reported voter list, voter -> its row."""
    folder = site.home / "records" / "list"
    reported = int((folder / "reported").read_text())
    return {r["voter"]: r for r in _list_rows(folder / f"{reported:06d}" / "archive.tar")}


def _list_rows(path):
    with tarfile.open(path) as tar:
        text = tar.extractfile("result.tsv").read().decode()
    header, *lines = text.splitlines()
    return [dict(zip(header.split("\t"), line.split("\t"))) for line in lines]


def audit(site, path) -> dict:
    done = site.civitas("audit", "--json", str(path))
    return json.loads(done.stdout)


@pytest.mark.slow
def test_a_voter_registered_on_a_sub_site_is_listed_and_counted_on_the_super_site(tmp_path):
    town = RuledSite(TOWN, tmp_path / "town", _port(), pre_registration_min=2)
    county, peripheral = RuledSite(COUNTY, tmp_path / "county", _port()), RuledSite(PERIPHERAL, tmp_path / "p", _port())
    for site in (town, county, peripheral):
        site.home.mkdir()
    try:
        town.civitas("registrar", "trust", "t1@town.example")
        town.civitas("voter", stdin="t1@town.example register set residence 1 Main St, Town T1000\n"
                                    "t1@town.example register trust t2@town.example\n"
                                    "t2@town.example register set residence 3 Main St, Town T1000\n"
                                    "both@x.example register set residence 5 Main St, Town T1000\n"
                                    "t1@town.example register trust both@x.example\n")
        town.civitas("list")
        at_town = rows(town)
        county.civitas("registrar", "trust", "c1@county.example")
        county.civitas("poll", "create", "county-poll")
        county.civitas("voter", stdin="c1@county.example register set residence 2 High St, County C1000\n"
                                      "both@x.example register set residence 9 High St, County C1000\n"
                                      "t1@town.example county-poll vote c1@county.example\n")
        county.attach(town, "sub")
        peripheral.attach(county, "source")
        peripheral.civitas("known-sites", "add", TOWN, town.key)  # the town's events reach it through the county
        town.up()
        county.civitas("sync", "pull")
        county.up()
        peripheral.civitas("sync", "pull")

        county.civitas("list")
        at_county = rows(county)
        for voter in ("t1@town.example", "t2@town.example"):  # traced from the town's registrar, as at the town
            assert at_county[voter] == at_town[voter]
        assert at_county["c1@county.example"]["trust_level"] == "1"
        # on both sites: listed once, by the stated rule (the higher trust level: the town's, where it is trusted)
        assert at_county["both@x.example"] == at_town["both@x.example"]
        assert at_town["both@x.example"]["trust_level"] == "1"
        county.civitas("count")
        count = county.civitas("count", "show", "county-poll").stdout
        assert "turnout 1" in count  # the town's voter, voting in the county's poll, is counted

        records = county.home / "records"
        part = json.loads((records / f"list@{TOWN}" / "000001" / "snap.json").read_text())
        assert part["config"]["rules"]["pre_registration_min"] == 2 and part["config"]["signature"]  # the town's own
        whole = audit(county, records / "list" / "000001" / "archive.tar")
        assert whole["matches"] and whole["verdict"] == "matches"
        of_town = audit(county, records / f"list@{TOWN}" / "000001" / "archive.tar")
        assert of_town["matches"] and of_town["origin"] == TOWN and of_town["origin_key"] == town.key

        peripheral.civitas("list")
        at_peripheral = rows(peripheral)
        assert {"t1@town.example", "c1@county.example"} <= set(at_peripheral)  # the core sites' voters, for its polls
        assert at_peripheral["t1@town.example"] == at_town["t1@town.example"]
    finally:
        for site in (town, county):
            if site.process is not None:
                site.process.kill()
                site.process.communicate()


def _port() -> int:
    from civitas_kernel.testing.ports import free_port

    return free_port()
