"""Register events for tests, as the log would hand them to a compiler."""

from __future__ import annotations

from civitas_kernel.events import NewEvent, RecordedEvent
from civitas_schema.v1 import doubt_pb2, registration_pb2, trust_pb2

STREAM_OF = {"AttributeSet": "registration", "AttributeUnset": "registration", "DoubtRaised": "doubt",
             "DoubtWithdrawn": "doubt"}


def recorded(events: list[NewEvent], site: str = "alpha.example.org") -> list[RecordedEvent]:
    """Seal events in order, each stream numbered on its own."""
    seqs: dict[str, int] = {}
    out = []
    for e in events:
        stream = STREAM_OF.get(e.type.rsplit(".", 1)[1], "trust")
        seqs[stream] = seqs.get(stream, 0) + 1
        out.append(RecordedEvent(site, stream, seqs[stream], f"{stream}-{seqs[stream]}", e.type, e.actor, 0,
                                 e.body, b"", b"", b""))
    return out


def attribute(voter: str, attribute: str, value: str | None, actor: str | None = None) -> NewEvent:
    if value is None:
        return NewEvent.of(registration_pb2.AttributeUnset(voter=voter, attribute=attribute), actor or voter)
    return NewEvent.of(registration_pb2.AttributeSet(voter=voter, attribute=attribute, value=value), actor or voter)


def residence(voter: str, value: str | None) -> NewEvent:
    return attribute(voter, "residence", value)


def trust(truster: str, trustee: str) -> NewEvent:
    return NewEvent.of(trust_pb2.TrustExtended(truster=truster, trustee=trustee), truster)


def untrust(truster: str, trustee: str) -> NewEvent:
    return NewEvent.of(trust_pb2.TrustWithdrawn(truster=truster, trustee=trustee), truster)


def primary(voter: str, edges: int = 1) -> NewEvent:
    return NewEvent.of(trust_pb2.PrimaryTrustExtended(voter=voter, edges=edges), "registrar")


def unprimary(voter: str) -> NewEvent:
    return NewEvent.of(trust_pb2.PrimaryTrustWithdrawn(voter=voter), "registrar")


def doubt(doubter: str, doubted: str, reason: str = "") -> NewEvent:
    return NewEvent.of(doubt_pb2.DoubtRaised(doubter=doubter, doubted=doubted, reason=reason), doubter)


def undoubt(doubter: str, doubted: str) -> NewEvent:
    return NewEvent.of(doubt_pb2.DoubtWithdrawn(doubter=doubter, doubted=doubted), doubter)
