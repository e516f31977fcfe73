"""Voters and operators through PollCommands, on every log backend."""

from __future__ import annotations

import pytest

from civitas_kernel.commands import CommandError, KeyReusedError, NotFoundError
from civitas_polls import PollCommands
from civitas_polls.domain.polls import PollError


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def polls(make_log):
    commands = PollCommands(make_log(), clock=Clock())
    commands.create("test-poll", title="Test poll")
    return commands


def test_vote_show_change_and_unvote(polls):
    reply = polls.run("Alice@Example.org", "test-poll", ["vote", "bob@example.org"])
    assert "you were voting for nobody; you now vote for bob@example.org" in reply.text
    assert "no count of this poll is reported yet" in reply.text
    assert polls.run("alice@example.org", "test-poll", ["vote"]).data["candidate"] == "bob@example.org"
    assert polls.run("carol@example.org", "test-poll", ["vote", "--alter", "alice@example.org"]).text.startswith(
        "alice@example.org votes for bob@example.org"
    )
    reply = polls.run("alice@example.org", "test-poll", ["vote", "carol@example.org"])
    assert reply.data["before"] == "bob@example.org" and reply.data["candidate"] == "carol@example.org"
    polls.run("alice@example.org", "test-poll", ["unvote"])
    assert polls.votes("test-poll") == {}
    assert [e.seq for e in polls.log.read("vote")] == [1, 2, 3]


def test_mistakes_write_nothing(polls):
    with pytest.raises(NotFoundError, match="no poll 'mayor'"):
        polls.run("alice@example.org", "mayor", ["vote", "bob@example.org"])
    with pytest.raises(PollError, match="email address"):
        polls.run("alice@example.org", "test-poll", ["vote", "bob"])
    with pytest.raises(CommandError, match="no command 'elect'"):
        polls.run("alice@example.org", "test-poll", ["elect", "bob@example.org"])
    with pytest.raises(PollError, match="no vote in test-poll to withdraw"):
        polls.run("alice@example.org", "test-poll", ["unvote"])
    with pytest.raises(CommandError, match="not an email address"):
        polls.run("alice", "test-poll", ["vote", "bob@example.org"])
    assert polls.log.head("vote").seq == 0


def test_a_closed_poll_takes_no_votes(polls):
    polls.configure("test-poll", closes_at_us=2_000_000)
    polls.run("alice@example.org", "test-poll", ["vote", "bob@example.org"])
    polls.clock.now = 2_000_000
    with pytest.raises(PollError, match="test-poll is closed"):
        polls.run("carol@example.org", "test-poll", ["vote", "bob@example.org"])
    assert polls.log.head("vote").seq == 1


def test_a_retried_command_with_its_key_votes_once_and_gets_the_first_reply(polls):
    first = polls.run("alice@example.org", "test-poll", ["vote", "bob@example.org"], idempotency_key="k1")
    again = polls.run("alice@example.org", "test-poll", ["vote", "bob@example.org"], idempotency_key="k1")
    assert again == first and "you were voting for nobody" in again.text  # the first reply, not one made anew
    assert polls.log.head("vote").seq == 1


def test_another_voters_key_is_not_yours(polls):
    polls.run("alice@example.org", "test-poll", ["vote", "bob@example.org"], idempotency_key="k1")
    reply = polls.run("carol@example.org", "test-poll", ["vote", "dave@example.org"], idempotency_key="k1")
    assert reply.data["candidate"] == "dave@example.org"
    assert polls.votes("test-poll") == {"alice@example.org": "bob@example.org", "carol@example.org": "dave@example.org"}


def test_a_key_used_for_another_request_is_refused_and_writes_nothing(polls):
    polls.run("alice@example.org", "test-poll", ["vote", "bob@example.org"], idempotency_key="k1")
    with pytest.raises(KeyReusedError, match="new key") as refused:
        polls.run("alice@example.org", "test-poll", ["vote", "carol@example.org"], idempotency_key="k1")
    assert refused.value.status == 422
    with pytest.raises(KeyReusedError):
        polls.run("alice@example.org", "test-poll", ["unvote"], idempotency_key="k1")
    assert polls.votes("test-poll") == {"alice@example.org": "bob@example.org"} and polls.log.head("vote").seq == 1


def test_a_key_is_kept_even_for_a_command_that_changed_nothing(polls):
    polls.run("alice@example.org", "test-poll", ["vote"], idempotency_key="k1")  # only shows the vote
    with pytest.raises(KeyReusedError):
        polls.run("alice@example.org", "test-poll", ["vote", "bob@example.org"], idempotency_key="k1")


def test_a_keyed_command_decides_again_when_another_writer_came_first(polls):
    other = PollCommands(polls.log, clock=polls.clock)
    other.catch_up()
    polls.run("alice@example.org", "test-poll", ["vote", "bob@example.org"])
    reply = other.run("alice@example.org", "test-poll", ["vote", "carol@example.org"], idempotency_key="k1")
    assert "you were voting for bob@example.org" in reply.text
    assert other.run("alice@example.org", "test-poll", ["vote", "carol@example.org"], idempotency_key="k1") == reply
    assert polls.log.head("vote").seq == 2


def test_two_writers_on_one_log_decide_on_fresh_state(polls, make_log):
    other = PollCommands(polls.log, clock=polls.clock)
    other.catch_up()
    polls.run("alice@example.org", "test-poll", ["vote", "bob@example.org"])
    # `other` has not seen alice's vote; its unvote must still be decided on the current state.
    other.run("alice@example.org", "test-poll", ["unvote"])
    polls.catch_up()
    assert polls.votes("test-poll") == {} and polls.log.head("vote").seq == 2


def test_help_and_listing(polls):
    assert "vote CANDIDATE" in polls.run("alice@example.org", "test-poll", ["help"]).text
    assert polls.run("alice@example.org", "test-poll", ["unvote", "--help"]).text == "unvote: withdraw your vote."
    assert polls.list_polls().data[0]["name"] == "test-poll"
