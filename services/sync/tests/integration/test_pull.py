"""Pulling between sites over real HTTP: what flows where, verified by ingest with pinned keys, resumable."""

from __future__ import annotations

import time

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response

from civitas_kernel.events import NewEvent
from civitas_kernel.signers import KNOWN_SITES, read_known_sites, write_known_sites
from civitas_kernel.testing.events import trust, votes
from civitas_schema.v1 import trust_pb2

from civitas_sync.config import attach_peer
from civitas_sync.pulling import Puller
from civitas_sync.settings import SyncOptions
from civitas_sync.state import load_state
from civitas_sync.worker import SyncWorker

PAGE = 100  # the page size the sites of conftest.py serve


def fill(site, trusts=250, doubts=5, voted=40):
    for start in range(0, trusts, 50):
        site.log.append("trust", [trust(f"t{i}@example.org", f"u{i}@example.org") for i in range(start, start + 50)])
    site.log.append("registration", [trust(f"r{i}@example.org", "x@example.org") for i in range(30)])
    site.log.append("doubt", [NewEvent.of(trust_pb2.TrustExtended(truster="d@example.org", trustee=f"e{i}"), "d")
                              for i in range(doubts)])
    site.log.append("vote", votes(voted))


def held(site, origin):
    return {stream: head.seq for s, stream, head in site.log.streams() if s == origin}


def pull(receiver, peer, **kw):
    with httpx.Client(timeout=10) as client:
        return Puller(receiver.log, peer, kw.pop("keys", {}), client, **kw).run()


def test_a_sub_site_sends_registration_and_trust_up_never_doubt(make_site):
    town, county = make_site("town.example"), make_site("county.example")
    fill(town)
    report = pull(county, town.as_peer("sub"), in_flight=3)
    assert held(county, "town.example") == {"registration": 30, "trust": 250}
    assert report.added == 280 and not report.errors
    assert any("vote" in r for r in report.refused)
    assert county.log.verify(site="town.example").events == 280
    assert pull(county, town.as_peer("sub")).added == 0  # already held: nothing new


def test_a_peripheral_site_gets_the_public_input_directly_or_through_another(make_site):
    core, p1, p2 = make_site("core.example"), make_site("p1.example"), make_site("p2.example")
    fill(core)
    pull(p1, core.as_peer("source"))
    assert held(p1, "core.example") == {"registration": 30, "trust": 250, "vote": 40}
    report = pull(p2, p1.as_peer("source"), keys={"core.example": core.key.public_key})
    assert held(p2, "core.example") == {"registration": 30, "trust": 250, "vote": 40} and not report.errors


def test_an_origin_without_a_pinned_key_is_not_taken(make_site):
    core, p1, p2 = make_site("core.example"), make_site("p1.example"), make_site("p2.example")
    fill(core)
    pull(p1, core.as_peer("source"))
    report = pull(p2, p1.as_peer("source"))
    assert held(p2, "core.example") == {}
    assert all("known-sites add core.example" in e for e in report.errors) and len(report.errors) == 3


def test_a_misconfigured_sender_offering_doubt_is_refused(make_site, server_thread):
    town, county = make_site("town.example"), make_site("county.example")
    fill(town)
    leaky = FastAPI()

    @leaky.get("/sync/v1/heads")
    def heads():
        body = httpx.get(f"{town.url}/sync/v1/heads").json()
        head = town.log.head("doubt")
        signed = town.log.checkpoints_between("doubt", after=head.seq - 1, until=head.seq)[head.seq]
        import base64
        body["streams"].append({"origin": town.name, "stream": "doubt", "seq": head.seq, "hash": head.hash.hex(),
                                "checkpoint": base64.b64encode(signed).decode()})
        return body

    with server_thread().serving(leaky) as url:
        report = pull(county, town.as_peer("sub", url), keys={})
    assert "doubt" not in held(county, "town.example")
    assert any("doubt never leaves" in r for r in report.refused)


def altering_relay(origin_url: str, page: int, victim: bytes, forged: bytes) -> FastAPI:
    """A relay that passes everything through but alters one event of one page."""
    relay = FastAPI()

    @relay.get("/sync/v1/{rest:path}")
    def passthrough(rest: str, request: Request):
        answer = httpx.get(f"{origin_url}/sync/v1/{rest}", params=dict(request.query_params))
        body = answer.content
        if rest.endswith(f"/trust/{page}"):
            assert victim in body
            body = body.replace(victim, forged)
        return Response(body, status_code=answer.status_code, media_type=answer.headers.get("content-type"))

    return relay


def test_a_relay_that_alters_an_event_is_rejected_and_the_honest_prefix_kept(make_site, server_thread):
    town, county = make_site("town.example"), make_site("county.example")
    fill(town)
    with server_thread().serving(altering_relay(town.url, 2, b"t150@example.org", b"t150@exampla.org")) as url:
        report = pull(county, town.as_peer("sub", url), in_flight=4)
    assert held(county, "town.example")["trust"] == PAGE  # page 1 kept, page 2 and what followed it refused
    assert any("trust at position 151" in e and "tampered" in e for e in report.errors)
    assert pull(county, town.as_peer("sub")).added == 150  # the honest site brings the rest, from 101


def test_a_split_view_is_kept_as_evidence_and_the_stream_frozen(make_site):
    town = make_site("town.example")
    forked = make_site("town.example", key_from=town, folder="town-restored")  # same name and key: a fork
    county = make_site("county.example")
    fill(town)
    forked.log.append("trust", [trust("other@example.org", "x@example.org")])
    pull(county, town.as_peer("sub"))
    attach_peer(county.home, county.name, town.as_peer("sub", forked.url))
    worker = SyncWorker(county.log, county.home, SyncOptions())
    worker.run_once(force=True)
    state = load_state(county.home).of("town.example")
    assert state.evidence and state.evidence[0]["seq"] == 1 and "town.example/trust" in state.frozen
    assert "split view" in state.remote["town.example/trust"]["error"]
    forked.log.append("trust", [trust(f"o{i}@example.org", "x@example.org") for i in range(300)])
    worker.run_once(force=True)
    assert held(county, "town.example")["trust"] == 250  # frozen at what was agreed


def test_a_dead_peer_is_retried_on_a_schedule_that_survives_a_restart(make_site):
    county = make_site("county.example")
    town = make_site("town.example", serve=False)
    attach_peer(county.home, county.name, town.as_peer("sub", "http://127.0.0.1:9"))
    times = iter([1000.0, 1000.0, 1001.0, 1003.0, 1003.0])  # each check of due, each failure
    options = SyncOptions(SYNC_BACKOFF_BASE_S=2, SYNC_BACKOFF_CAP_S=60, SYNC_TIMEOUT_S=2)
    assert isinstance(SyncWorker(county.log, county.home, options, clock=lambda: next(times)).run_once()[0], str)
    assert load_state(county.home).of("town.example").next_attempt == 1002.0
    restarted = SyncWorker(county.log, county.home, options, clock=lambda: next(times))
    assert restarted.run_once() == []  # not due yet, though the worker is new
    restarted.run_once()
    entry = load_state(county.home).of("town.example")
    assert entry.failures == 2 and entry.next_attempt == 1003.0 + 4


def test_a_peer_serving_another_signed_history_further_on_is_a_split_view(make_site):
    town = make_site("town.example")
    forked = make_site("town.example", key_from=town, folder="town-equivocating")  # one key, two histories
    county = make_site("county.example")
    fill(town)
    fill(forked, trusts=300)  # other events (other times) at the same positions, and more of them
    pull(county, town.as_peer("sub"))
    attach_peer(county.home, county.name, town.as_peer("sub", forked.url))
    SyncWorker(county.log, county.home, SyncOptions()).run_once(force=True)
    state = load_state(county.home).of("town.example")
    assert "split view" in state.remote["town.example/trust"]["error"]
    # registration: the same position, another event; trust: a page that does not continue what is held
    assert [(e["stream"], e["seq"]) for e in state.evidence] == [("registration", 30), ("trust", 251)]
    assert all(e["ours"] and e["theirs"] for e in state.evidence)
    assert held(county, "town.example")["trust"] == 250


def test_a_site_restored_from_an_old_backup_learns_it_from_a_peer(make_site):
    p, q = make_site("p.example"), make_site("q.example")
    fill(p)
    pull(q, p.as_peer("source"))
    restored = make_site("p.example", key_from=p, folder="p-restored")  # the same site, from an older backup
    restored.log.append("vote", votes(5))
    attach_peer(restored.home, restored.name, q.as_peer("source"))
    SyncWorker(restored.log, restored.home, SyncOptions()).run_once(force=True)
    evidence = load_state(restored.home).of("q.example").evidence
    assert {(e["origin"], e["stream"]) for e in evidence} == {("p.example", s) for s in ("registration", "trust", "vote")}


def test_a_sub_site_prompts_its_super_site_to_pull_sooner(make_site):
    county = make_site("county.example", worker=SyncOptions(SYNC_EVERY_S=60))  # a round a minute, but prompted
    town = make_site("town.example", worker=SyncOptions(SYNC_EVERY_S=0.2))
    attach_peer(county.home, county.name, town.as_peer("sub"))
    attach_peer(town.home, town.name, county.as_peer("super"))
    time.sleep(0.5)  # the county's first round has run, before the town had anything
    town.log.append("trust", [trust("a@example.org", "b@example.org")])
    deadline = time.monotonic() + 10
    while county.log.head("trust", site=town.name).seq < 1:
        assert time.monotonic() < deadline, "the county did not pull when prompted"
        time.sleep(0.05)


def test_a_three_level_tree_and_a_loop_of_peripheral_sites_converge(make_site):
    village, town, county = make_site("village.example"), make_site("town.example"), make_site("county.example")
    p1, p2 = make_site("p1.example"), make_site("p2.example")
    for site in (village, town, county):
        fill(site, trusts=150, voted=20)
    for upper, lower in ((town, village), (county, town)):
        attach_peer(upper.home, upper.name, lower.as_peer("sub"))
        attach_peer(lower.home, lower.name, upper.as_peer("super"))
    attach_peer(p1.home, p1.name, county.as_peer("source"))
    attach_peer(p1.home, p1.name, p2.as_peer("source"))  # p1 and p2 feed each other: a loop
    attach_peer(p2.home, p2.name, p1.as_peer("source"))
    for receiver, origins in ((county, (village,)), (p1, (village, town)), (p2, (village, town, county))):
        for origin in origins:  # `civitas known-sites add`: the keys of origins whose events come through others
            known = read_known_sites(receiver.home / KNOWN_SITES)
            write_known_sites(receiver.home / KNOWN_SITES, known | {origin.name: origin.key.public_key})
    workers = [SyncWorker(s.log, s.home, SyncOptions()) for s in (village, town, county, p1, p2)]
    for _ in range(4):  # a round each, in an order that needs several rounds to carry everything everywhere
        for worker in reversed(workers):
            worker.run_once(force=True)
    upward = {"registration": 30, "trust": 150}
    assert held(county, "village.example") == held(county, "town.example") == upward
    for p in (p1, p2):
        assert held(p, "village.example") == held(p, "town.example") == upward
        assert held(p, "county.example") == {"registration": 30, "trust": 150, "vote": 20}
        assert not any(stream == "doubt" for origin, stream, _ in p.log.streams())
    assert held(p2, "p1.example") == {} and held(p1, "p2.example") == {}  # nothing of their own yet, nothing looped
    assert p2.log.verify().events == p1.log.verify().events == 30 + 150 + 30 + 150 + 30 + 150 + 20


def test_equivocation_to_two_receivers_is_detected_within_one_exchange_of_heads(make_site):
    town = make_site("town.example")
    other = make_site("town.example", key_from=town, folder="town-to-the-peripheral")  # what it told the other
    county, p = make_site("county.example"), make_site("p.example")
    fill(town)
    fill(other)
    attach_peer(county.home, county.name, town.as_peer("sub"))
    SyncWorker(county.log, county.home, SyncOptions()).run_once()  # the county got one history
    pull(p, other.as_peer("source"))  # the peripheral site another, under the same key
    attach_peer(county.home, county.name, p.as_peer("peripheral"))  # p pulls from the county: the county reads its heads
    witnessed = [r for r in SyncWorker(county.log, county.home, SyncOptions()).run_once(force=True) if r.witnessed]
    assert [(r.peer, r.added) for r in witnessed] == [("p.example", 0)]
    evidence = load_state(county.home).of("p.example").evidence
    assert {(e["origin"], e["stream"]) for e in evidence} == {("town.example", "registration"), ("town.example", "trust")}
    assert held(county, "town.example") == {"registration": 30, "trust": 250}  # nothing taken from the witness


def test_pages_answer_bad_requests_with_problems_and_seal_only_whole_pages(make_site):
    town = make_site("town.example")
    fill(town)
    base = f"{town.url}/sync/v1/pages"
    for path, status, words in [("/town.example/doubt/1", 404, "doubt never leaves"),
                                ("/town.example/trust/0", 404, "count from 1"),
                                ("/town.example/trust/9", 404, "holds positions up to 250"),
                                ("/Town..example/trust/1", 404, "not a site and stream name"),
                                ("/elsewhere.example/trust/1", 404, "holds positions up to 0"),
                                ("/town.example/trust/1?after=100", 404, "not within page 1"),
                                ("/town.example/trust/one", 422, "")]:
        answer = httpx.get(base + path)
        assert answer.status_code == status and answer.headers["content-type"] == "application/problem+json", path
        assert words in answer.json()["detail"] if words else True
    whole, tail = httpx.get(base + "/town.example/trust/2"), httpx.get(base + "/town.example/trust/3")
    assert "immutable" in whole.headers["cache-control"] and tail.headers["cache-control"] == "no-store"
    assert httpx.get(base + "/town.example/trust/2").content == whole.content  # the same bytes, from the cache


def test_a_site_knows_how_far_its_super_site_has_come_from_its_heads(make_site):
    town, county = make_site("town.example"), make_site("county.example")
    fill(town)
    pull(county, town.as_peer("sub"))
    town.log.append("trust", [trust("late@example.org", "u@example.org")])  # not pulled yet
    attach_peer(town.home, town.name, county.as_peer("super"))
    SyncWorker(town.log, town.home, SyncOptions()).run_once()
    remote = load_state(town.home).of("county.example").remote
    assert remote["town.example/trust"]["seq"] == 250 and remote["town.example/registration"]["seq"] == 30
    assert "town.example/vote" not in remote  # the county holds none of it
