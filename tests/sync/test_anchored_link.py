"""A new link that starts at a declared, signed anchor instead of position 1, between `civitas up` processes: the
county takes the town's signed heads as anchors (`civitas sync anchor --add`), holds the town's registration and
trust from there and follows them, says so everywhere, and lists none of the town's voters; forged anchors declared
on another receiver's link are refused and take nothing."""

from __future__ import annotations

import base64
import json
import re

import httpx
import pytest

from civitas_schema.v1 import envelope_pb2

from civitas_kernel.signing import SiteKey

from .conftest import wait_until

TOWN, COUNTY, STATE = "town.example", "county.example", "state.example"


def voters(site, *lines: str) -> None:
    site.civitas("voter", stdin="\n".join(lines) + "\n")


def town_heads(town) -> dict[str, int]:
    return {stream: seq for (site, stream), seq in town.heads().items() if site == TOWN and stream in
            ("registration", "trust")}


def held(site, origin=TOWN) -> dict[str, int]:
    return {stream: seq for (s, stream), seq in site.heads().items() if s == origin}


@pytest.mark.slow
def test_a_receiver_starts_at_a_declared_anchor_then_follows_and_forged_anchors_take_nothing(sites):
    town, county, state = sites(TOWN), sites(COUNTY), sites(STATE)
    town.civitas("registrar", "trust", "t1@town.example")
    voters(town, "t1@town.example register set residence 1 Main St, Town T1000",
           "t1@town.example register trust t2@town.example")
    voters(town, "t2@town.example register set residence 3 Main St, Town T1000")
    county.civitas("registrar", "trust", "c1@county.example")
    voters(county, "c1@county.example register set residence 2 High St, County C1000")
    county.attach(town, "sub")
    state.attach(town, "sub")
    town.up()
    at_anchor = town_heads(town)
    assert at_anchor["registration"] >= 2 and at_anchor["trust"] >= 1

    printed = county.civitas("sync", "anchor", TOWN, "registration").stdout
    assert "[[peer.anchor]]" in printed and f"position = {at_anchor['registration']}" in printed
    assert "[[peer.anchor]]" not in (county.home / "sync.toml").read_text()  # printed only, until --add
    for stream in ("registration", "trust"):
        county.civitas("sync", "anchor", TOWN, stream, "--add")
    declared = (county.home / "sync.toml").read_text()
    assert declared.count("[[peer.anchor]]") == 2

    voters(town, "t3@town.example register set residence 5 Main St, Town T1000",
           "t1@town.example register trust t3@town.example")  # after the anchors: these are what the county takes
    county.up()
    wait_until(lambda: held(county) == town_heads(town), what="the county reaching the town's heads")
    log = county.open_log()
    for stream in ("registration", "trust"):
        anchor = log.anchor(stream, site=TOWN)
        assert anchor.seq == at_anchor[stream]
        got = [(e.seq, e.hash) for e in log.read(stream, site=TOWN)]
        assert got == [(e.seq, e.hash) for e in town.open_log().read(stream, after=anchor.seq)]  # from N + 1, the same
    verified = json.loads(county.civitas("log", "verify", "--json").stdout)
    assert {(r["stream"], r.get("from_anchor")) for r in verified["streams"] if r["site"] == TOWN} == {
        ("registration", at_anchor["registration"]), ("trust", at_anchor["trust"])}
    assert "verified from its origin's signed anchor at position" in county.civitas("log", "verify").stdout

    voters(town, "t4@town.example register set residence 7 Main St, Town T1000")  # and then it follows
    wait_until(lambda: held(county) == town_heads(town), what="the county following the town past the anchor")

    status = json.loads(county.civitas("sync", "status", "--json").stdout)
    assert {(r["stream"], r["anchor"]) for r in status if r["stream"] and r["stream"].startswith(TOWN)} == {
        (f"{TOWN}/registration", at_anchor["registration"]), (f"{TOWN}/trust", at_anchor["trust"])}
    said = county.civitas("sync", "status").stdout
    assert f"{TOWN}/registration starts here at an anchor" in said and "not in this site's voter list" in said
    network = httpx.get(county.url + "/network", timeout=10).text
    assert f"anchor at {at_anchor['registration']}" in network and "starts here at an anchor" in network

    county.civitas("list")
    assert not (county.home / "records" / f"list@{TOWN}").exists()  # the rule: no list of an origin held from an anchor
    rows = _listed(county)
    assert "c1@county.example" in rows and not any(v.endswith("@town.example") for v in rows)

    # Another receiver whose link declares forged anchors: refused before anything is fetched, nothing written.
    lines = county.civitas("sync", "anchor", TOWN, "registration").stdout
    checkpoint = base64.b64decode(re.search(r'checkpoint = "([^"]+)"', lines).group(1))
    opened = envelope_pb2.Checkpoint.FromString(envelope_pb2.SignedCheckpoint.FromString(checkpoint).checkpoint)
    forger = SiteKey.generate()  # signs the town's real position and hash, but is not the town
    forged = forger.sign_checkpoint(TOWN, "registration", opened.seq, opened.head_hash, 1).SerializeToString(
        deterministic=True)
    of_trust = county.civitas("sync", "anchor", TOWN, "trust").stdout
    wrong_hash = of_trust.replace(re.search(r'hash = "([0-9a-f]+)"', of_trust).group(1), "ab" * 32)
    with open(state.home / "sync.toml", "a", encoding="utf-8") as toml:
        toml.write("\n" + lines.replace(base64.b64encode(checkpoint).decode(), base64.b64encode(forged).decode())
                   + "\n" + wrong_hash)
    pulled = state.civitas("sync", "pull", check=False).stdout
    assert "anchor refused: forged" in pulled
    assert "anchor refused: the declared hash abab" in pulled
    assert held_in_log(state) == {}  # nothing of the town's written


def held_in_log(site) -> dict[str, int]:
    return {stream: head.seq for s, stream, head in site.open_log().streams() if s == TOWN}


def _listed(site) -> set[str]:
    import tarfile

    folder = site.home / "records" / "list"
    reported = int((folder / "reported").read_text())
    with tarfile.open(folder / f"{reported:06d}" / "archive.tar") as tar:
        text = tar.extractfile("result.tsv").read().decode()
    return {line.split("\t")[0] for line in text.splitlines()[1:] if line}
