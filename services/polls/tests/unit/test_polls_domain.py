"""Poll configuration and vote decisions: every bad input is refused before anything is written."""

from __future__ import annotations

import pytest

from civitas_kernel.commands import ConflictError, NotFoundError
from civitas_kernel.events import decode_body
from civitas_polls.domain.polls import PollConfig, PollError, checked, normalise_candidate
from civitas_polls.domain.sim import simulate
from civitas_polls.domain.votes import PollsState, decide_create, decide_unvote, decide_vote


def state_with(*configs: PollConfig) -> PollsState:
    state = PollsState()
    for config in configs:
        event = decide_create(state, config)
        state.evolve(event.type, decode_body(event.type, event.body))
    return state


@pytest.mark.parametrize(
    "config, message",
    [
        (PollConfig("Mayor", "Mayor"), "cannot name a poll"),
        (PollConfig("register", "x"), "cannot name a poll"),
        (PollConfig("change", "x"), "cannot name a poll"),
        (PollConfig("m", "x"), "cannot name a poll"),
        (PollConfig("mayor", " "), "title is 1 to 200"),
        (PollConfig("mayor", "Mayor", kind="plural"), "electoral or normative"),
        (PollConfig("mayor", "Mayor", district="9 0"), "district"),
        (PollConfig("mayor", "Mayor", min_trust=-1), "minimum trust level"),
        (PollConfig("mayor", "Mayor", opens_at_us=10, closes_at_us=5), "close after it opens"),
    ],
)
def test_bad_poll_configurations_are_refused(config, message):
    with pytest.raises(PollError, match=message):
        checked(config)


def test_a_configuration_is_normalised():
    assert checked(PollConfig("mayor", "  The   Mayor ", district="k1a")) == PollConfig("mayor", "The Mayor", district="K1A")


def test_a_poll_name_is_taken_once():
    state = state_with(PollConfig("mayor", "Mayor"))
    with pytest.raises(ConflictError, match="exists already"):
        decide_create(state, PollConfig("mayor", "Mayor again"))


def test_candidates_follow_the_poll_kind():
    electoral, normative = PollConfig("mayor", "Mayor"), PollConfig("budget", "Budget", kind="normative")
    assert normalise_candidate(electoral, " Bob@Example.ORG ") == "bob@example.org"
    assert normalise_candidate(normative, "https://example.org/p/1") == "https://example.org/p/1"
    with pytest.raises(PollError, match="vote for a person by email address"):
        normalise_candidate(electoral, "bob")
    with pytest.raises(PollError, match="absolute URI"):
        normalise_candidate(normative, "not a uri")


def test_votes_need_an_open_existing_poll_and_a_change():
    state = state_with(PollConfig("mayor", "Mayor", opens_at_us=100, closes_at_us=200))
    with pytest.raises(NotFoundError, match="civitas poll list"):
        decide_vote(state, "dog-catcher", "a@x.org", "b@x.org", 150)
    with pytest.raises(PollError, match="not open yet"):
        decide_vote(state, "mayor", "a@x.org", "b@x.org", 50)
    with pytest.raises(PollError, match="is closed"):
        decide_vote(state, "mayor", "a@x.org", "b@x.org", 200)
    event, candidate = decide_vote(state, "mayor", "A@X.org", "B@x.org", 150)
    assert candidate == "b@x.org" and event.actor == "a@x.org"
    state.evolve(event.type, decode_body(event.type, event.body))
    with pytest.raises(PollError, match="already; nothing changed"):
        decide_vote(state, "mayor", "a@x.org", "b@x.org", 150)
    with pytest.raises(PollError, match="no vote in mayor to withdraw"):
        decide_unvote(state, "mayor", "c@x.org", 150)


def test_a_vote_for_oneself_is_allowed():
    state = state_with(PollConfig("mayor", "Mayor"))
    _, candidate = decide_vote(state, "mayor", "a@x.org", "a@x.org", 1)
    assert candidate == "a@x.org"


def test_the_simulation_registers_and_votes_two_groups():
    lines = simulate("ab", "1-3")
    assert lines[0].startswith("# run `civitas poll create test-poll`")
    votes = [line for line in lines if " test-poll vote " in line]
    assert len(votes) == 6
    assert sum(line.endswith("sim-a@sim.example.org") for line in votes) == 3
    assert "a2@sim.example.org register set residence 2 A Street, Simville A1000" in lines
    with pytest.raises(PollError, match="range"):
        simulate("ab", "3-1")
    with pytest.raises(PollError, match="distinct lower-case letters"):
        simulate("aa", "1-3")
