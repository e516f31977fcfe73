"""Whose votes reach a node, read back from a compiled count: exactly the votes the cascade says it receives."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from civitas_kernel.count_result import Reach

from .test_count import count, listed, poll, vote

VOTERS = [f"v{i}@x.org" for i in range(8)]


def test_direct_votes_and_votes_through_the_cascade():
    events = [poll(), vote("a@x.org", "c@x.org"), vote("b@x.org", "c@x.org"), vote("d@x.org", "a@x.org"),
              vote("e@x.org", "d@x.org"), vote("c@x.org", "f@x.org")]
    result = count(events, listed("a@x.org", "b@x.org", "c@x.org", "d@x.org", "e@x.org"))
    assert result.voters_for("c@x.org") == ["a@x.org", "b@x.org"]
    assert result.reaching("c@x.org") == [Reach("a@x.org", "c@x.org", 1), Reach("b@x.org", "c@x.org", 1),
                                          Reach("d@x.org", "a@x.org", 2), Reach("e@x.org", "d@x.org", 3)]
    assert len(result.reaching("f@x.org")) == result.node("f@x.org").receive == 5


def test_a_barred_voters_vote_reaches_nobody():
    events = [poll(), vote("a@x.org", "b@x.org"), vote("z@x.org", "b@x.org")]
    result = count(events, listed("a@x.org"))  # z is not on the list
    assert result.voters_for("b@x.org") == ["a@x.org"]
    assert result.uncast_for("b@x.org") == [("z@x.org", "not on the voter list")]
    assert [r.voter for r in result.reaching("b@x.org")] == ["a@x.org"]


@given(st.dictionaries(st.sampled_from(VOTERS), st.sampled_from(VOTERS), max_size=8),
       st.sets(st.sampled_from(VOTERS)))
def test_every_node_is_reached_by_as_many_votes_as_it_receives(votes, unlisted):
    events = [poll(), *(vote(v, c) for v, c in votes.items())]
    result = count(events, listed(*(v for v in VOTERS if v not in unlisted)))
    for node in result.nodes:
        reached = result.reaching(node.node)
        assert len(reached) == node.receive
        assert all(node.node in result.trace(r.voter) for r in reached)
