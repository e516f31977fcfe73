"""Compiling counts from a cut: who is cast, who holds, the ranking, and byte-identical results."""

from __future__ import annotations

from civitas_counter import compile_count, parse_count
from civitas_kernel.events import NewEvent, RecordedEvent
from civitas_kernel.voter_list import VoterEntry, VoterList
from civitas_schema.v1 import poll_pb2, vote_pb2


def event(message) -> RecordedEvent:
    new = NewEvent.of(message, "x")
    return RecordedEvent("s", "vote", 0, "", new.type, new.actor, 0, new.body, b"", b"", b"")


def poll(name="test-poll", **options):
    return event(poll_pb2.PollConfigured(name=name, title=name, kind=poll_pb2.POLL_KIND_ELECTORAL, **options))


def vote(voter, candidate, name="test-poll"):
    return event(vote_pb2.VoteCast(poll=name, voter=voter, candidate=candidate))


def listed(*voters, level=0, hood="A1000", **bars) -> VoterList:
    return VoterList([VoterEntry(v, level, bars.get(v.split("@")[0], ""), 0, hood) for v in voters])


def count(events, voter_list):
    return parse_count(compile_count(events, voter_list)).polls["test-poll"]


def test_a_tie_is_ranked_as_a_tie():
    voters = [f"{g}{n}@x.org" for g in "ab" for n in range(1, 4)]
    events = [poll()] + [vote(v, f"sim-{v[0]}@x.org") for v in voters]
    result = count(events, listed(*voters))
    assert result.turnout == 6
    assert result.ranking == [(1, "sim-a@x.org", 3), (1, "sim-b@x.org", 3)]


def test_a_delegated_vote_is_traced_to_its_holder():
    events = [poll(), vote("a@x.org", "b@x.org"), vote("b@x.org", "c@x.org")]
    result = count(events, listed("a@x.org", "b@x.org"))
    assert result.trace("a@x.org") == ["a@x.org", "b@x.org", "c@x.org"]
    c = result.node("c@x.org")
    assert (c.receive, c.hold, c.cast) == (2, 2, False)
    assert (result.node("b@x.org").receive, result.node("b@x.org").carry) == (1, 1)
    assert result.ranking == [(1, "c@x.org", 2)]


def test_a_cycle_holds_where_it_closes_and_marks_cyclers():
    events = [poll(), vote("a@x.org", "b@x.org"), vote("b@x.org", "a@x.org")]
    result = count(events, listed("a@x.org", "b@x.org"))
    assert result.turnout == 2
    assert result.trace("a@x.org") == ["a@x.org", "b@x.org"]
    assert result.node("a@x.org").cycler and result.node("b@x.org").cycler
    assert (result.node("a@x.org").hold, result.node("b@x.org").hold) == (1, 1)


def test_barred_voters_are_not_cast_but_still_hold():
    events = [poll(min_trust=1, district="A1"), vote("a@x.org", "b@x.org"), vote("b@x.org", "c@x.org"),
              vote("d@x.org", "c@x.org"), vote("e@x.org", "c@x.org")]
    voter_list = VoterList([
        VoterEntry("a@x.org", 1, "", 0, "A1000"),
        VoterEntry("b@x.org", 0, "", 0, "A1000"),  # below the minimum
        VoterEntry("e@x.org", 3, "", 0, "B2000"),  # outside the district
    ])
    result = count(events, voter_list)
    assert result.node("b@x.org").bar == "trust level 0 below the poll's minimum 1"
    assert result.node("d@x.org").bar == "not on the voter list"
    assert result.node("e@x.org").bar == "residence outside the district A1"
    assert result.turnout == 1 and result.trace("a@x.org") == ["a@x.org", "b@x.org"]
    assert result.node("b@x.org").hold == 1 and result.trace("d@x.org") == []


def test_the_same_cut_compiles_to_the_same_bytes_and_withdrawals_count():
    events = [poll(), vote("a@x.org", "b@x.org"), vote("c@x.org", "b@x.org"),
              event(vote_pb2.VoteWithdrawn(poll="test-poll", voter="c@x.org"))]
    voter_list = listed("a@x.org", "c@x.org")
    assert compile_count(events, voter_list) == compile_count(list(events), voter_list)
    assert count(events, voter_list).turnout == 1
