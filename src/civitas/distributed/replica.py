"""The counter's replica: verified events from Kafka written into an EventLog's own tables, with their position.

EventLog.ingest wants whole runs closed by a checkpoint, while a consumer hands over single events in
its Projector's transaction. So this projector writes each event's row itself (the consumer has
already checked its hash and chain link against the position held), and moves the stream's head only
at an event that carries the site's signed checkpoint: the replica's heads stand where the owner's
appends ended, and the checkpoint is verified here against the site's key before it is stored.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

from sqlalchemy import text
from sqlalchemy.engine import Connection

from civitas_schema.v1 import envelope_pb2

from civitas_kernel.errors import IntegrityError
from civitas_kernel.events import RecordedEvent
from civitas_kernel.kafka import StreamConsumer
from civitas_kernel.kafka.codec import CHECKPOINT_HEADER
from civitas_kernel.signing import open_checkpoint
from civitas_kernel.sql.base import SqlEventLog
from civitas_kernel.tracking import Projector

log = logging.getLogger("civitas.distributed.replica")

Key = tuple[str, str, int]  # (site, stream, seq)
MAX_PENDING_CHECKPOINTS = 50_000

INSERT_EVENT = text("INSERT INTO events (site, stream, seq, hash, raw) VALUES (:site, :stream, :seq, :hash, :raw)")
INSERT_CHECKPOINT = text(
    "INSERT INTO checkpoints (site, stream, seq, signed) VALUES (:site, :stream, :seq, :signed) ON CONFLICT DO NOTHING"
)
MOVE_HEAD = text(
    "INSERT INTO heads (site, stream, seq, hash) VALUES (:site, :stream, :seq, :hash) "
    "ON CONFLICT (site, stream) DO UPDATE SET seq = excluded.seq, hash = excluded.hash"
)


class ReplicaProjector(Projector):
    """Applies the site's events to `replica`'s tables in the consumer's transaction (position included)."""

    def __init__(self, replica: SqlEventLog, consumer: str = "counter-replica") -> None:
        self.replica = replica
        self._checkpoints: OrderedDict[Key, bytes] = OrderedDict()  # seen in headers, not yet applied
        self._guard = threading.Lock()
        super().__init__(replica.engine, consumer, self._apply)

    def offer_checkpoint(self, signed: bytes) -> None:
        """Remember a checkpoint travelling with a message; it is checked when its event applies."""
        try:
            checkpoint = envelope_pb2.Checkpoint.FromString(envelope_pb2.SignedCheckpoint.FromString(signed).checkpoint)
        except Exception:  # noqa: BLE001 - an undecodable header is the consumer's to park
            return
        with self._guard:
            self._checkpoints[(checkpoint.site, checkpoint.stream, checkpoint.seq)] = signed
            while len(self._checkpoints) > MAX_PENDING_CHECKPOINTS:
                self._checkpoints.popitem(last=False)  # bounded; a lost one only delays the head to the next append

    def _apply(self, conn: Connection, event: RecordedEvent) -> None:
        if event.site != self.replica.site:
            log.warning("ignoring %s/%s@%d: not this site's event (federation is the sync service's)",
                        event.site, event.stream, event.seq)
            return
        row = {"site": event.site, "stream": event.stream, "seq": event.seq}
        conn.execute(INSERT_EVENT, {**row, "hash": event.hash, "raw": event.raw})
        with self._guard:
            signed = self._checkpoints.pop((event.site, event.stream, event.seq), None)
        if signed is None or not self._closes(signed, event):
            return
        conn.execute(INSERT_CHECKPOINT, {**row, "signed": signed})
        conn.execute(MOVE_HEAD, {**row, "hash": event.hash})

    def _closes(self, signed: bytes, event: RecordedEvent) -> bool:
        try:
            checkpoint = open_checkpoint(envelope_pb2.SignedCheckpoint.FromString(signed), self.replica.key.public_key)
        except (IntegrityError, Exception) as error:  # noqa: BLE001 - a bad signature is refused, not fatal
            log.warning("refusing the checkpoint of %s/%s@%d: %s", event.site, event.stream, event.seq, error)
            return False
        return checkpoint.head_hash == event.hash


class ReplicaConsumer(StreamConsumer):
    """StreamConsumer that also hands the `civitas-checkpoint` header of each message to the ReplicaProjector."""

    projector: ReplicaProjector

    def _take(self, tp, stream, record, unsettled, accepted) -> None:  # the one per-message hook StreamConsumer has
        for name, value in record.headers or ():
            if name == CHECKPOINT_HEADER and value:
                self.projector.offer_checkpoint(value)
        super()._take(tp, stream, record, unsettled, accepted)
