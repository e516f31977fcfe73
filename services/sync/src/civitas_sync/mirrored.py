"""The receiving side of MirrorMaker 2, between Kafka-scale sites: MM2 copies a site's topics byte for byte into
`<site>.civitas.<stream>` here (its default replication policy prefixes the source's name); this consumes them with
the kernel's verifying consumer and the origin's pinned key, and adds what it may take to this site's log.

MM2 verifies nothing and knows nothing of doubt: the consumer checks every hash, link and signature, and the
projector takes only what flows from that origin (never doubt, never this site's own streams).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import Connection

from civitas_kernel.events import RecordedEvent
from civitas_kernel.kafka import KafkaSettings, StreamConsumer
from civitas_kernel.tracking import Checkpoints, Projector

from civitas_sync.domain.flows import UPWARD, pulled

log = logging.getLogger("civitas.sync.mirrored")


def mirrored_settings(kafka: KafkaSettings, origin: str) -> KafkaSettings:
    """This site's Kafka settings with the topic names MM2 gives `origin`'s topics here."""
    return kafka.model_copy(update={"topic_template": f"{origin}.{kafka.topic_template}"})


class MirroredProjector(Projector):
    """Adds `origin`'s verified events to `log` with the consumer's position, in the consumer's transaction."""

    def __init__(self, log_, origin: str, public_key: bytes, role: str = "sub") -> None:
        self.log, self.origin, self.public_key, self.role = log_, origin, public_key, role
        log_._record_site_key(origin, public_key)  # as ingest does: refused if the log holds another key for it
        super().__init__(log_.engine, f"sync-mirrored-{origin}")

    def apply_all(self, conn: Connection, events: Sequence[RecordedEvent], checkpoints: Checkpoints) -> None:
        taken = [e for e in events if e.site == self.origin and pulled(self.role, self.log.site, e.site, e.stream)]
        for site, stream in sorted({(e.site, e.stream) for e in events} - {(e.site, e.stream) for e in taken}):
            log.warning("refusing %s/%s from the mirrored topics: a %s site does not send it", site, stream, self.role)
        self.log.add_verified(conn.connection.cursor(), taken, checkpoints)


def mirrored_consumer(log_, kafka: KafkaSettings, origin: str, public_key: bytes, role: str = "sub",
                      streams: Sequence[str] = UPWARD) -> StreamConsumer:
    """A consumer of `origin`'s mirrored topics into `log_`, checked against `origin`'s pinned key."""
    return StreamConsumer(mirrored_settings(kafka, origin), MirroredProjector(log_, origin, public_key, role),
                          [s for s in streams if pulled(role, log_.site, origin, s)],
                          group=f"{kafka.consumer_group}-mirrored-{origin}", site_keys={origin: public_key})
