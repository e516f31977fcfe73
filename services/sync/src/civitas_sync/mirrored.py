"""The receiving side of MirrorMaker 2, between Kafka-scale sites: MM2 copies a site's topics byte for byte into
`<site>.civitas.<stream>` here (its default replication policy prefixes the source's name); this consumes them with
the kernel's verifying consumer and the origin's pinned key, and adds what it may take to this site's log.

MM2 verifies nothing and knows nothing of doubt: the consumer checks every hash, link and signature, and the
projector takes only what flows from that origin (never doubt, never this site's own streams).

A link declared at an anchor (`[[peer.anchor]]` in sync.toml, as for the HTTP pull) starts there: the projector's
position begins at the anchor, so the records MM2 copied from before it are skipped as already held and one at the
anchor that is not the event signed there is refused; the anchor is recorded in the log with the first run that
continues from it, in the same transaction, as `ingest` records it for a page.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, select

from civitas_kernel.anchors import Anchor, open_anchor
from civitas_kernel.errors import IntegrityError
from civitas_kernel.events import RecordedEvent
from civitas_kernel.kafka import KafkaSettings, StreamConsumer
from civitas_kernel.tracking import Checkpoints, Projector, tracking

from civitas_sync.domain.anchors import DeclaredAnchor
from civitas_sync.domain.flows import PUBLIC, UPWARD, pulled

log = logging.getLogger("civitas.sync.mirrored")


def mirrored_settings(kafka: KafkaSettings, origin: str) -> KafkaSettings:
    """This site's Kafka settings with the topic names MM2 gives `origin`'s topics here."""
    return kafka.model_copy(update={"topic_template": f"{origin}.{kafka.topic_template}"})


def checked_anchors(declared: Sequence[DeclaredAnchor], origin: str, public_key: bytes
                    ) -> tuple[dict[str, Anchor], dict[str, str]]:
    """The anchors declared for `origin`'s own streams on its link, each checked against its pinned key, by stream;
    and, by stream, why a declaration is refused (that stream is then not consumed: nothing is written)."""
    anchors, refused = {}, {}
    for d in declared:
        if d.origin != origin:
            continue  # MM2 carries only a peer's own streams; what it relays comes over HTTP, anchored there
        try:
            anchors[d.stream] = open_anchor(d.checkpoint, origin, d.stream, public_key, seq=d.position,
                                            head_hash=d.hash)
        except IntegrityError as e:
            refused[d.stream] = str(e)
    return anchors, refused


class MirroredProjector(Projector):
    """Adds `origin`'s verified events to `log` with the consumer's position, in the consumer's transaction;
    anchors: the checked anchors of the streams its link declares them for."""

    def __init__(self, log_, origin: str, public_key: bytes, role: str = "sub",
                 anchors: Mapping[str, Anchor] | None = None) -> None:
        self.log, self.origin, self.public_key, self.role = log_, origin, public_key, role
        self.anchors = dict(anchors or {})
        log_._record_site_key(origin, public_key)  # as ingest does: refused if the log holds another key for it
        super().__init__(log_.engine, f"sync-mirrored-{origin}")
        self._start_at_anchors()

    def _start_at_anchors(self) -> None:
        """A stream with no position yet starts where the log holds it from an anchor, else at the declared one."""
        c = tracking.c
        with self.engine.begin() as conn:
            for stream in sorted({*self.anchors, *(s for s in PUBLIC if pulled(self.role, self.log.site,
                                                                              self.origin, s))}):
                if conn.execute(select(c.position).where(c.consumer == self.consumer, c.site == self.origin,
                                                         c.stream == stream)).first() is not None:
                    continue
                held, anchor = self.log.head(stream, site=self.origin), self.log.anchor(stream, site=self.origin)
                if anchor is not None:  # held from an anchor already (this link's, or the HTTP pull's): go on there
                    self._save(conn, self.origin, stream, held.seq, held.hash, known=False)
                elif held.seq == 0 and stream in self.anchors:
                    self._save(conn, self.origin, stream, self.anchors[stream].seq, self.anchors[stream].hash,
                               known=False)

    def apply_all(self, conn: Connection, events: Sequence[RecordedEvent], checkpoints: Checkpoints) -> None:
        taken = [e for e in events if e.site == self.origin and pulled(self.role, self.log.site, e.site, e.stream)]
        for site, stream in sorted({(e.site, e.stream) for e in events} - {(e.site, e.stream) for e in taken}):
            log.warning("refusing %s/%s from the mirrored topics: a %s site does not send it", site, stream, self.role)
        cur = conn.connection.cursor()
        for stream in sorted({e.stream for e in taken}):
            first = next(e for e in taken if e.stream == stream)
            if first.seq > 1 and self.log._lock_head(cur, self.origin, stream).seq == 0:  # none held: from an anchor
                anchor = self.anchors.get(stream)
                if anchor is None or (anchor.seq, anchor.hash) != (first.seq - 1, first.prev_hash):
                    raise IntegrityError(self.origin, stream, first.seq, "before the anchor: this link started "
                                         "from an anchor no longer declared; declare it again under the peer")
                self.log._take_anchor(cur, self.origin, stream, self.public_key, anchor.signed)
        self.log.add_verified(cur, taken, checkpoints)


def mirrored_consumer(log_, kafka: KafkaSettings, origin: str, public_key: bytes, role: str = "sub",
                      streams: Sequence[str] = UPWARD, anchors: Mapping[str, Anchor] | None = None) -> StreamConsumer:
    """A consumer of `origin`'s mirrored topics into `log_`, checked against `origin`'s pinned key; `anchors`: the
    streams its link starts at a checked anchor (`checked_anchors`)."""
    return StreamConsumer(mirrored_settings(kafka, origin), MirroredProjector(log_, origin, public_key, role, anchors),
                          [s for s in streams if pulled(role, log_.site, origin, s)],
                          group=f"{kafka.consumer_group}-mirrored-{origin}", site_keys={origin: public_key})
