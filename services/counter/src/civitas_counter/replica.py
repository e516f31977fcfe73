"""The counter's replica: verified events from Kafka written into an EventLog's own tables, with their position.

EventLog.ingest wants whole runs closed by a checkpoint and opens its own transaction, while a consumer
hands over a round of events in its Projector's transaction. So this projector stores each round with
SqlEventLog.add_verified in that transaction: the consumer has already checked every event's hash and
chain link against the position held, and every checkpoint's signature against the site's pinned key.
A stream's head moves only at an event a checkpoint closes, so the replica's heads stand where the
owner's appends ended.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.engine import Connection

from civitas_kernel.events import RecordedEvent
from civitas_kernel.sql.base import SqlEventLog
from civitas_kernel.tracking import Checkpoints, Projector

log = logging.getLogger("civitas.counter.replica")


class ReplicaProjector(Projector):
    """Applies the site's events to `replica`'s tables in the consumer's transaction (position included)."""

    def __init__(self, replica: SqlEventLog, consumer: str = "counter-replica") -> None:
        self.replica = replica
        super().__init__(replica.engine, consumer)

    def apply_all(self, conn: Connection, events: Sequence[RecordedEvent], checkpoints: Checkpoints) -> None:
        own = [e for e in events if e.site == self.replica.site]
        for other in {(e.site, e.stream) for e in events if e.site != self.replica.site}:
            log.warning("ignoring events of %s/%s: not this site's (federation is the sync service's)", *other)
        self.replica.add_verified(conn.connection.cursor(), own, checkpoints)
