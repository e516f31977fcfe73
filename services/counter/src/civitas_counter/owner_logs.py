"""The owners' logs of record as the counter sees them: read over HTTP, to fill gaps Kafka left.

A broker that restarts can lose messages it had acknowledged; the events are still in the
owning service's log. The consumer verifies what comes from here, events and the checkpoints closing
the owner's appends, like anything from Kafka.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

from civitas_kernel.events import RecordedEvent
from civitas_kernel.kafka.source import Sealed
from civitas_kernel.service.calls import ServiceClient

OWNERS = {"registration": "registry", "trust": "registry", "doubt": "registry", "poll": "polls", "vote": "polls"}


class OwnerLogs:
    """A consumer's Source (civitas_kernel.kafka.source) over the owners' GET /events/{stream}."""

    def __init__(self, clients: dict[str, ServiceClient]) -> None:
        self.clients = clients

    def sealed(self, stream: str, *, site: str, after: int, until: int) -> Iterator[Sealed]:
        client = self.clients[OWNERS[stream]]
        while after < until:
            page = client.get(f"/events/{stream}", after=after, until=until)
            if not page:
                return
            for item in page:
                event = RecordedEvent.decode(base64.b64decode(item["raw"]), base64.b64decode(item["hash"]))
                checkpoint = base64.b64decode(item["checkpoint"]) if item.get("checkpoint") else None
                after = event.seq
                yield event, checkpoint
