"""The owners' logs of record as the counter sees them: read over HTTP, to fill gaps Kafka left.

A broker that restarts can lose messages it had acknowledged; the events are still in the
owning service's log. The consumer verifies what comes from here like anything from Kafka.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

from civitas_kernel.events import RecordedEvent

from civitas.distributed.calls import ServiceClient

OWNERS = {"registration": "registry", "trust": "registry", "doubt": "registry", "poll": "polls", "vote": "polls"}


class OwnerLogs:
    """What StreamConsumer needs of a `source`: read(stream, site=, after=, until=)."""

    def __init__(self, clients: dict[str, ServiceClient]) -> None:
        self.clients = clients

    def read(self, stream: str, *, site: str | None = None, after: int = 0, until: int | None = None) -> Iterator[RecordedEvent]:
        client = self.clients[OWNERS[stream]]
        while until is None or after < until:
            params = {"after": after} | ({"until": until} if until is not None else {})
            page = client.get(f"/events/{stream}", **params)
            if not page:
                return
            for item in page:
                event = RecordedEvent.decode(base64.b64decode(item["raw"]), base64.b64decode(item["hash"]))
                after = event.seq
                yield event
