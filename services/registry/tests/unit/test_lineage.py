"""The rules of forks and moves, pure: cooling-off, where a voter stands, what an arrival needs, a moved bar."""

from __future__ import annotations

import pytest

from civitas_kernel.commands import CommandError, ConflictError
from civitas_kernel.events import decode_body
from civitas_kernel.testing.events import trust
from civitas_registry import ListConfig, compile_voter_list
from civitas_registry.domain import lineage as ln
from civitas_registry.domain.moved import moved_bars
from civitas_kernel.events import NewEvent
from civitas_schema.v1 import lineage_pb2, registration_pb2

from ..builders import recorded

DAY = ln.DAY_US
V = "v@example.org"


def fold(*events: NewEvent) -> ln.LineageState:
    state = ln.LineageState()
    for e in events:
        state.evolve(e.type, decode_body(e.type, e.body), e.actor)
    return state


def moved_out(at: int, to: str = "b.example") -> NewEvent:
    return NewEvent.of(lineage_pb2.VoterMovedOut(voter=V, to_site=to, moved_at_us=at), V)


def test_a_second_move_waits_for_the_cooling_off_period():
    state = fold(moved_out(10 * DAY))
    assert state.moved_to(V) == "b.example"
    with pytest.raises(ln.CoolingOffError, match="less than 7 days"):
        ln.check_cooling_off(state, V, 16 * DAY, 7 * DAY)
    ln.check_cooling_off(state, V, 17 * DAY, 7 * DAY)
    ln.check_cooling_off(state, "other@example.org", 0, 7 * DAY)  # never moved: free to


def test_a_voter_moves_out_once_and_never_to_the_site_itself():
    state = fold()
    [event] = ln.decide_move_out(state, "a.example", V, "b.example", b"k", 5, 7 * DAY, [b"h"], [])
    assert event.actor == V and decode_body(event.type, event.body).events == [b"h"]
    with pytest.raises(ln.MoveRefused, match="registered on a.example already"):
        ln.decide_move_out(state, "a.example", V, "a.example", b"k", 5, 7 * DAY, [], [])
    with pytest.raises(ln.MoveRefused, match="moved from a.example to b.example already"):
        ln.decide_move_out(fold(moved_out(1)), "a.example", V, "c.example", b"k", 20 * DAY, 7 * DAY, [], [])


def test_an_arrival_needs_the_voters_acceptance_here_and_comes_once():
    with pytest.raises(ln.MoveRefused, match="accept-move a.example"):
        ln.check_arrival(fold(), V, "a.example", b"s", 0, 7 * DAY)
    accepted = fold(*ln.decide_accept(fold(), "b.example", V, "a.example"))
    ln.check_arrival(accepted, V, "a.example", b"s", 0, 7 * DAY)
    assert ln.decide_accept(accepted, "b.example", V, "a.example") == []  # asked already: nothing new


def test_confirming_needs_a_fork_and_something_inherited_and_happens_once():
    with pytest.raises(CommandError, match="not a fork"):
        ln.decide_confirm(fold(), V, [b"h"])
    fork = fold(NewEvent.of(lineage_pb2.SiteForked(parent="town.example", parent_key=bytes(32)), "operator"))
    with pytest.raises(CommandError, match="register here as a new voter"):
        ln.decide_confirm(fork, V, [])
    [event] = ln.decide_confirm(fork, V, [b"h"])
    fork.evolve(event.type, decode_body(event.type, event.body), V)
    with pytest.raises(ConflictError, match="confirmed already"):
        ln.decide_confirm(fork, V, [b"h"])


def test_a_moved_voter_is_barred_on_the_list_of_the_site_they_left_until_they_come_back():
    events = [NewEvent.of(registration_pb2.AttributeSet(voter=V, attribute="name", value="V"), V),
              trust("w@example.org", V), moved_out(1)]
    listed = compile_voter_list(recorded(events), ListConfig()).decode()
    assert f"{V}\t" in listed and "moved to b.example" in listed
    back = NewEvent.of(lineage_pb2.VoterMovedIn(voter=V, from_site="b.example", moved_at_us=9), V)
    assert "moved to" not in compile_voter_list(recorded([*events, back]), ListConfig()).decode()


def test_moved_bars_name_only_registrants():
    bars = ["", ""]
    moved_bars(["a@x", "c@x"], {"c@x": "b.example", "b@x": "b.example"}, bars)
    assert bars == ["", "moved to b.example"]
