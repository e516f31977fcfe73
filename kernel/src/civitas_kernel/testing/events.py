"""Builders of plain events for tests."""

from civitas_kernel.events import NewEvent
from civitas_schema.v1 import trust_pb2, vote_pb2


def votes(n: int, poll: str = "test-poll", start: int = 0) -> list[NewEvent]:
    return [
        NewEvent.of(vote_pb2.VoteCast(poll=poll, voter=f"v{i}@example.org", candidate="c@example.org"), f"v{i}@example.org")
        for i in range(start, start + n)
    ]


def trust(truster: str, trustee: str) -> NewEvent:
    return NewEvent.of(trust_pb2.TrustExtended(truster=truster, trustee=trustee), truster)
