"""The count compiled in columns gives, on any cut, the very bytes of the rule applied one vote at a time."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from civitas_counter import compile_count
from civitas_counter.domain.plain import count_plainly
from civitas_kernel.cut import Columns
from civitas_kernel.events import NewEvent
from civitas_kernel.voter_list import VoterEntry, VoterList, decode_voter_list, encode_voter_list
from civitas_schema.v1 import poll_pb2, vote_pb2

NODES = ["a@x.org", "b@x.org", "ab@x.org", "zoë@exämple.org", "c@y.org", "https://x.org/proposal/1", "", "d@x.org"]
POLLS = ["mayor", "ward", "zz", "never-configured"]


@st.composite
def cuts(draw):
    events = []
    for _ in range(draw(st.integers(0, 40))):
        roll = draw(st.integers(0, 9))
        poll = draw(st.sampled_from(POLLS))
        voter = draw(st.sampled_from(NODES))
        if roll == 0 and poll != "never-configured":
            events.append(NewEvent.of(poll_pb2.PollConfigured(
                name=poll, title=poll, min_trust=draw(st.integers(0, 3)),
                district=draw(st.sampled_from(["", "A", "A1", "Bé"]))), "operator"))
        elif roll == 1:
            events.append(NewEvent.of(vote_pb2.VoteWithdrawn(poll=poll, voter=voter), voter))
        else:
            candidate = draw(st.sampled_from(NODES))
            events.append(NewEvent.of(vote_pb2.VoteCast(poll=poll, voter=voter, candidate=candidate), voter))
    listed = draw(st.lists(st.sampled_from([n for n in NODES if "@" in n]), unique=True))
    entries = [VoterEntry(v, draw(st.integers(0, 4)), draw(st.sampled_from(["", "", "no residence given"])),
                          0, draw(st.sampled_from(["", "A1000", "A2", "Bé9", "B"]))) for v in listed]
    return events, VoterList(entries)


@settings(max_examples=500, deadline=None)
@given(cuts())
def test_a_count_in_columns_is_the_count_vote_by_vote(cut):
    events, voter_list = cut
    expected = count_plainly(events, voter_list)
    assert compile_count(events, voter_list) == expected
    assert compile_count(Columns.of(events), decode_voter_list(encode_voter_list(voter_list.entries))) == expected


def test_an_empty_cut_or_one_without_polls_counts_nothing():
    assert compile_count([], VoterList([])) == b""
    assert compile_count([NewEvent.of(vote_pb2.VoteCast(poll="p", voter="a@x.org", candidate="b@x.org"), "a@x.org")],
                         VoterList([])) == b""
