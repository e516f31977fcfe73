"""The gateway's forwarder: concurrent voters' commands travel to their owner in batches, and each gets its own answer."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from civitas_kernel.commands import CommandError, KeyReusedError, NotFoundError
from civitas_kernel.kafka import KafkaSettings
from civitas_kernel.service.calls import ServiceUnavailable
from civitas_kernel.service.settings import OwnerSettings
from civitas_kernel.testing.ports import free_port
from civitas_kernel.voter_command import VoterCommand
from civitas_polls.http import create_polls_app

from civitas_gateway.forwarder import CommandForwarder

VOTERS = [f"v{i}@example.org" for i in range(60)]


@pytest.fixture
def polls_url(tmp_path, make_database_url, server_thread):
    """A polls service over a real PostgreSQL log; no broker (commands do not wait for Kafka)."""
    server = server_thread()
    settings = OwnerSettings(SERVICE="polls", HOME=tmp_path, SITE="localhost", LOG_URL=make_database_url("postgres"),
                               COUNTER_URL="http://127.0.0.1:9", PUBLISH_WAIT_S=0)
    nowhere = KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}")
    with server.serving(create_polls_app(settings, kafka=nowhere)) as url:
        assert httpx.post(url + "/polls", json={"name": "mayor"}).status_code == 201
        yield url


def test_concurrent_commands_travel_in_batches_and_each_gets_its_own_answer(polls_url, monkeypatch):
    forwarder = CommandForwarder("polls", polls_url)
    sizes: list[int] = []
    exchange = forwarder._exchange

    async def counted(commands, others):
        sizes.append(len(commands))
        return await exchange(commands, others)

    monkeypatch.setattr(forwarder, "_exchange", counted)

    async def scenario():
        try:
            commands = [VoterCommand(v, "mayor", ("vote", VOTERS[0])) for v in VOTERS[1:]]
            commands += [VoterCommand(VOTERS[1], "sheriff", ("vote", VOTERS[0])),  # no such poll
                         VoterCommand(VOTERS[2], "mayor", ("vote", "not an address"))]
            return await asyncio.gather(*(forwarder.submit(c) for c in commands), return_exceptions=True)
        finally:
            await forwarder.aclose()

    outcomes = asyncio.run(scenario())
    replies, unknown_poll, bad_candidate = outcomes[:-2], outcomes[-2], outcomes[-1]
    assert all(r.data["candidate"] == VOTERS[0] and r.data["voter"] == v for r, v in zip(replies, VOTERS[1:]))
    assert isinstance(unknown_poll, NotFoundError) and "sheriff" in str(unknown_poll)
    assert isinstance(bad_candidate, CommandError) and not isinstance(bad_candidate, NotFoundError)
    assert sum(sizes) == len(outcomes) and len(sizes) < len(outcomes) / 4  # many commands to a request
    votes = httpx.get(polls_url + "/polls/mayor/votes").json()
    assert votes == {v: VOTERS[0] for v in VOTERS[1:]}  # each accepted command exactly once


def test_an_owner_that_does_not_answer_is_a_service_unavailable_for_every_command_waiting():
    forwarder = CommandForwarder("polls", f"http://127.0.0.1:{free_port()}", timeout=5)

    async def scenario():
        try:
            return await asyncio.gather(*(forwarder.submit(VoterCommand(v, "mayor", ("vote", VOTERS[0])))
                                          for v in VOTERS[:5]), return_exceptions=True)
        finally:
            await forwarder.aclose()

    outcomes = asyncio.run(scenario())
    assert all(isinstance(o, ServiceUnavailable) and o.status_code == 503 and "polls" in o.detail for o in outcomes)


def test_idempotency_keys_travel_to_the_owner_scoped_to_their_voter(polls_url):
    forwarder = CommandForwarder("polls", polls_url)

    async def scenario():
        try:
            first = await forwarder.submit(VoterCommand(VOTERS[1], "mayor", ("vote", VOTERS[0]), "key-1"))
            others = await forwarder.submit(VoterCommand(VOTERS[2], "mayor", ("vote", VOTERS[3]), "key-1"))
            again = await forwarder.submit(VoterCommand(VOTERS[1], "mayor", ("vote", VOTERS[0]), "key-1"))
            reused = await asyncio.gather(forwarder.submit(VoterCommand(VOTERS[1], "mayor", ("unvote",), "key-1")),
                                          return_exceptions=True)
            return first, others, again, reused[0]
        finally:
            await forwarder.aclose()

    first, others, again, reused = asyncio.run(scenario())
    assert others.data["candidate"] == VOTERS[3]  # another voter's key is not theirs
    assert again == first
    assert isinstance(reused, KeyReusedError) and "new key" in str(reused)
    assert httpx.get(polls_url + "/polls/mayor/votes").json() == {VOTERS[1]: VOTERS[0], VOTERS[2]: VOTERS[3]}
