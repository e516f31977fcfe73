"""Moving a voter between two embedded sites in this process over real HTTP, with clocks the test sets."""

from __future__ import annotations

import base64

import pytest

from civitas.site import dispatch
from civitas_kernel.commands import CommandError
from civitas_kernel.events import NewEvent
from civitas_kernel.voter_command import VoterCommand
from civitas_schema.v1 import envelope_pb2, lineage_pb2
from civitas_sync import Peer, attach_peer

DAY_US = 86_400_000_000
V = "mover@example.org"


def run(site, voter, *args):
    return dispatch(site, VoterCommand(voter, "register", args), local=True)


def on_list(site, voter):
    site.compile("list")
    return site.reported_list().get(voter)


def test_a_voter_moves_to_b_and_back_after_the_cooling_off(two_sites):
    a, b, clock = two_sites
    run(a, V, "set", "residence", "1 High St, Town T1000")
    run(a, V, "trust", "friend@example.org")
    run(a, "friend@example.org", "trust", V)
    run(b, "friend@example.org", "set", "name", "Friend")  # the friend is registered on B too
    assert on_list(a, V).bar == ""

    with pytest.raises(CommandError, match="accept-move a.example"):
        run(a, V, "move", "b.example")  # B was never told: refused, nothing written
    assert a.registry.lineage.moves_of(V) == []

    run(b, V, "accept-move", "a.example")
    reply = run(a, V, "move", "b.example")
    assert reply.data["arrived"], reply.text
    assert on_list(a, V).bar == "moved to b.example"  # A no longer counts them
    entry = on_list(b, V)
    assert entry.bar == "" and entry.residence == "1 High St, Town T1000"
    assert b.registry.trusted_by(V) == ["friend@example.org"]  # trust given, to a voter B knows
    assert b.registry.trusters_of(V) == []  # trust others gave stays at A: evidence only
    assert b.registry.lineage.evidence_of(V) == [{"from": "a.example", "trust_edges_received": 1}]
    assert [m["direction"] for m in a.registry.lineage.moves_of(V)] == ["out"]
    assert "moved to b.example" in run(a, V, "hello").text  # A's replies point to B
    with pytest.raises(CommandError, match="your register is there now"):
        run(a, V, "trust", "friend@example.org")

    run(a, V, "accept-move", "b.example")
    clock.now += 3 * DAY_US
    with pytest.raises(CommandError, match="cooling-off"):
        run(b, V, "move", "a.example")
    assert len(b.registry.lineage.moves_of(V)) == 1  # nothing written
    clock.now += 5 * DAY_US
    assert run(b, V, "move", "a.example").data["arrived"]
    assert on_list(a, V).bar == "" and on_list(b, V).bar == "moved to a.example"
    assert [m["direction"] for m in a.registry.lineage.moves_of(V)] == ["out", "in"]


def test_a_move_to_a_site_that_does_not_answer_writes_nothing(two_sites):
    a, b, _ = two_sites
    run(a, V, "set", "name", "Mover")
    attach_peer(a.settings.HOME, "a.example", Peer("gone.example", "peripheral", "http://127.0.0.1:9", bytes(32)))
    head = a.log.head("registration").seq
    with pytest.raises(CommandError, match="does not answer"):
        run(a, V, "move", "gone.example")
    with pytest.raises(CommandError, match="does not know site"):
        run(a, V, "move", "nowhere.example")
    assert a.log.head("registration").seq == head


def test_a_statement_not_the_voters_own_or_not_signed_by_its_site_is_refused(two_sites):
    a, b, _ = two_sites
    run(a, V, "set", "name", "Mover")
    run(b, V, "accept-move", "a.example")
    run(a, V, "move", "b.example")
    # A's operator writes a statement moving another voter, as the operator
    forged = a.log.append("registration", [NewEvent.of(lineage_pb2.VoterMovedOut(
        voter="other@example.org", to_site="b.example", to_key=b.key.public_key, moved_at_us=1), "operator")])
    event = next(iter(a.log.read("registration", after=forged.last_seq - 1)))
    signed = a.log.checkpoints_between("registration", after=event.seq - 1, until=event.seq)[event.seq]
    sealed = envelope_pb2.SealedEvent(envelope=event.raw, hash=event.hash).SerializeToString()
    b64 = lambda d: base64.b64encode(d).decode()  # noqa: E731
    head = b.log.head("registration").seq
    with pytest.raises(CommandError, match="not signed by the moving voter"):
        b.registry.lineage.arrive({"statement": b64(sealed), "checkpoint": b64(signed), "carried": []})
    other = envelope_pb2.SignedCheckpoint.FromString(signed)
    other.signature = bytes(64)
    with pytest.raises(CommandError, match="not signed by a.example's key"):
        b.registry.lineage.arrive({"statement": b64(sealed), "checkpoint": b64(other.SerializeToString()),
                                   "carried": []})
    assert b.log.head("registration").seq == head


def test_a_statement_carrying_what_it_may_not_is_refused(two_sites):
    a, b, _ = two_sites
    run(a, V, "set", "name", "Mover")
    run(b, V, "accept-move", "a.example")
    registrar = a.registry.registrar_trust(V, 5)  # A's registrar trusts them: B's registrar decides its own
    assert registrar.data["changed"]
    primary = next(e for e in a.log.read("trust") if e.actor == "registrar")
    forged = a.log.append("registration", [NewEvent.of(lineage_pb2.VoterMovedOut(
        voter=V, to_site="b.example", to_key=b.key.public_key, moved_at_us=1, events=[primary.hash]), V)])
    event = next(iter(a.log.read("registration", after=forged.last_seq - 1)))
    signed = a.log.checkpoints_between("registration", after=event.seq - 1, until=event.seq)[event.seq]

    def b64(message) -> str:
        return base64.b64encode(message).decode()

    def sealed(e) -> bytes:
        return envelope_pb2.SealedEvent(envelope=e.raw, hash=e.hash).SerializeToString()

    head = b.log.head("trust").seq
    with pytest.raises(CommandError, match="not one the move statement names"):
        b.registry.lineage.arrive({"statement": b64(sealed(event)), "checkpoint": b64(signed),
                                   "carried": [b64(sealed(primary))]})
    assert b.log.head("trust").seq == head
