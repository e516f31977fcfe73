"""A link declared to start at an anchor (the origin's signed head at N) instead of position 1, over real HTTP: the
receiver holds the stream from N + 1, follows it, serves it on only from there; forged anchors take nothing."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
import pytest

from civitas_schema.v1 import envelope_pb2

from civitas_kernel.signing import SiteKey
from civitas_kernel.testing.events import trust

from civitas_counter.records import record_store
from civitas_registry import ListConfig
from civitas_sync.config import attach_peer, declare_anchor, read_network
from civitas_sync.domain.anchors import DeclaredAnchor
from civitas_sync.overview import network_overview
from civitas_sync.worker import SyncWorker

from .test_pull import fill, held, pull

TOWN = "town.example"


def anchor_of(site, stream: str, seq: int) -> DeclaredAnchor:
    """The origin's own signed checkpoint at `seq`, as `civitas sync anchor` would print it."""
    for c in site.log.checkpoints(stream):
        checkpoint = envelope_pb2.Checkpoint.FromString(c.checkpoint)
        if checkpoint.seq == seq:
            return DeclaredAnchor(site.name, stream, seq, checkpoint.head_hash, c.SerializeToString(deterministic=True))
    raise AssertionError(f"no checkpoint of {stream} at {seq}")


def anchored_peer(origin, *anchors: DeclaredAnchor, role: str = "sub", url: str | None = None):
    peer = origin.as_peer(role, url)
    return type(peer)(peer.site, peer.role, peer.url, peer.public_key, anchors)


def test_a_link_declared_at_an_anchor_starts_there_and_follows(make_site, make_log):
    town, county = make_site(TOWN), SimpleNamespace(log=make_log("county.example"))  # SQLite, and PostgreSQL
    fill(town)  # trust in appends of 50: the town signed 50, 100, .. 250
    peer = anchored_peer(town, anchor_of(town, "trust", 150))
    report = pull(county, peer)
    assert held(county, TOWN) == {"registration": 30, "trust": 250} and not report.errors
    assert [s.added for s in report.streams if s.stream == "trust"] == [100]
    assert [e.seq for e in county.log.read("trust", site=TOWN)][:1] == [151]
    assert county.log.anchor("trust", site=TOWN).seq == 150 and county.log.anchor("registration", site=TOWN) is None
    assert [(r.stream, r.events, r.anchor) for r in county.log.verify(site=TOWN).streams] == [
        ("registration", 30, 0), ("trust", 100, 150)]
    town.log.append("trust", trusts(250, 20))
    assert pull(county, peer).added == 20  # then it follows as any link does
    assert [e.hash for e in county.log.read("trust", site=TOWN)] == [e.hash for e in town.log.read("trust", after=150)]


def trusts(start: int, n: int):
    return [trust(f"t{i}@example.org", f"u{i}@example.org") for i in range(start, start + n)]


def test_an_anchored_stream_is_served_on_only_from_its_anchor(make_site):
    town, county, p = make_site(TOWN), make_site("county.example"), make_site("p.example")
    fill(town)
    pull(county, anchored_peer(town, anchor_of(town, "trust", 150)))
    heads = {(e["origin"], e["stream"]): e for e in httpx.get(f"{county.url}/sync/v1/heads").json()["streams"]}
    assert (heads[(TOWN, "trust")]["first"], heads[(TOWN, "trust")]["anchor"]) == (151, 150)
    assert "first" not in heads[(TOWN, "registration")]
    gone = httpx.get(f"{county.url}/sync/v1/pages/{TOWN}/trust/1")
    assert gone.status_code == 410 and gone.json()["first"] == 151
    keys = {TOWN: town.key.public_key}
    # a site pulling from the county without an anchor meets a gap: nothing of the trust is taken, never a jump
    report = pull(p, county.as_peer("source"), keys=keys)
    trust = next(s for s in report.streams if (s.origin, s.stream) == (TOWN, "trust"))
    assert (trust.gap, trust.added) == (151, 0) and held(p, TOWN)["registration"] == 30 and "trust" not in held(p, TOWN)
    # declaring an anchor the county holds from, or a later one, takes the rest from there
    report = pull(p, anchored_peer(county, anchor_of(town, "trust", 200), role="source"), keys=keys)
    assert held(p, TOWN)["trust"] == 250 and p.log.anchor("trust", site=TOWN).seq == 200 and not report.errors


def test_forged_anchors_are_refused_and_take_nothing(make_site):
    town, county = make_site(TOWN), make_site("county.example")
    fill(town)
    real = anchor_of(town, "trust", 150)
    forger = SiteKey.generate()  # signs as if it were the town
    forged = forger.sign_checkpoint(TOWN, "trust", 150, real.hash, 1).SerializeToString(deterministic=True)
    for anchor, why in ((DeclaredAnchor(TOWN, "trust", 150, real.hash, forged), "forged"),
                        (DeclaredAnchor(TOWN, "trust", 150, bytes(32), real.checkpoint), "declared hash"),
                        (DeclaredAnchor(TOWN, "trust", 149, real.hash, real.checkpoint), "declared position")):
        report = pull(county, anchored_peer(town, anchor))
        (error,) = report.errors
        assert "anchor refused" in error and why in error
        assert "trust" not in held(county, TOWN) and county.log.anchor("trust", site=TOWN) is None


def test_an_origin_held_from_an_anchor_gets_no_list_of_its_own_and_the_site_says_so(make_site):
    town, county = make_site(TOWN), make_site("county.example")
    fill(town)
    attach_peer(county.home, county.name, town.as_peer("sub"))
    declare_anchor(county.home, county.name, TOWN, anchor_of(town, "trust", 150))
    assert read_network(county.home, county.name).peer(TOWN).anchors == (anchor_of(town, "trust", 150),)  # kept
    SyncWorker(county.log, county.home).run_once(force=True)
    assert held(county, TOWN) == {"registration": 30, "trust": 250}
    store = record_store(county.home, county.log, ListConfig(), clock=lambda: 1)
    store.snap("list")
    assert f"list@{TOWN}" not in store.kinds and store.kinds["list"].depends_on == ()
    overview = network_overview(county.log, county.home)
    row = next(s for s in overview["peers"][0]["streams"] if s["stream"] == f"{TOWN}/trust")
    assert row["anchor"] == 150
    assert any("starts here at an anchor" in w and "not in this site's voter list" in w for w in overview["warnings"])
    assert any(n.startswith(f"{TOWN}'s registrations and trust are held here only from") for n in overview["counting"])


@pytest.mark.parametrize("role", ["super", "peripheral"])
def test_an_anchor_is_declared_only_on_a_link_this_site_pulls_from(make_site, role):
    town = make_site(TOWN, serve=False)
    with pytest.raises(ValueError, match="declared only on a link this site pulls from"):
        anchored_peer(town, anchor_of_plain(), role=role, url="http://127.0.0.1:1")


def anchor_of_plain() -> DeclaredAnchor:
    key = SiteKey.generate()
    signed = key.sign_checkpoint(TOWN, "trust", 1, bytes(32), 1).SerializeToString(deterministic=True)
    return DeclaredAnchor(TOWN, "trust", 1, bytes(32), signed)
