"""The other sites' registration and trust in the counter's replica, so the counter service compiles `list@ORIGIN`
as the embedded site does: MirrorMaker 2 copies each origin's topics into `<origin>.civitas.<stream>` on this
site's cluster; a verifying consumer per origin (CIVITAS_COUNTER_ORIGINS), checked against the key pinned for it
in CIVITAS_HOME/known-sites.toml, adds that origin's events of those two streams to the replica."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.engine import Connection

from civitas_kernel.events import RecordedEvent
from civitas_kernel.kafka import KafkaSettings, StreamConsumer
from civitas_kernel.signers import KNOWN_SITES, read_known_sites
from civitas_kernel.sql.base import SqlEventLog
from civitas_kernel.tracking import Checkpoints, Projector

from civitas_counter.network_lists import ORIGIN_STREAMS

log = logging.getLogger("civitas.counter.origins")


def counted_origins(names: str, home: Path, own_site: str,
                    setting: str = "CIVITAS_COUNTER_ORIGINS") -> dict[str, bytes]:
    """The origins named (comma-separated) with their pinned keys; ValueError saying what to do if one has none."""
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    if own_site in wanted:
        raise ValueError(f"{setting} names this site, {own_site}: name only the sites it receives")
    known = read_known_sites(home / KNOWN_SITES) if wanted else {}
    missing = [n for n in wanted if n not in known]
    if missing:
        raise ValueError(f"no key pinned for {', '.join(missing)} in {home / KNOWN_SITES}: pin each with "
                         "`civitas known-sites add SITE KEY` (or attach it with `civitas sync attach`)")
    return {n: known[n] for n in wanted}


def synced_origins(names: str, sync_url: str, mirrored: dict[str, bytes], home: Path,
                   own_site: str) -> dict[str, bytes]:
    """CIVITAS_COUNTER_SYNCED_ORIGINS with their pinned keys: each read from the sync service, so one needs its URL,
    and none may also come from the mirrored topics (one transport per stream into the replica)."""
    origins = counted_origins(names, home, own_site, "CIVITAS_COUNTER_SYNCED_ORIGINS")
    if origins and not sync_url:
        raise ValueError("CIVITAS_COUNTER_SYNCED_ORIGINS needs CIVITAS_SYNC_URL: the sync service they are read from")
    both = sorted(set(origins) & set(mirrored))
    if both:
        raise ValueError(f"{', '.join(both)} named in both CIVITAS_COUNTER_ORIGINS and CIVITAS_COUNTER_SYNCED_ORIGINS: "
                         "name each origin once, by the way it reaches this site (MirrorMaker 2, or the sync service)")
    return origins


class OriginProjector(Projector):
    """Adds `origin`'s verified registration and trust to the replica, in the consumer's transaction."""

    def __init__(self, replica: SqlEventLog, origin: str, public_key: bytes) -> None:
        self.replica, self.origin = replica, origin
        replica._record_site_key(origin, public_key)  # refused if the replica holds another key for it
        super().__init__(replica.engine, f"counter-origin-{origin}")

    def apply_all(self, conn: Connection, events: Sequence[RecordedEvent], checkpoints: Checkpoints) -> None:
        taken = [e for e in events if e.site == self.origin and e.stream in ORIGIN_STREAMS]
        for other in sorted({(e.site, e.stream) for e in events} - {(e.site, e.stream) for e in taken}):
            log.warning("ignoring %s/%s in %s's mirrored topics: only its registration and trust are counted",
                        *other, self.origin)
        self.replica.add_verified(conn.connection.cursor(), taken, checkpoints)


def origin_consumer(replica: SqlEventLog, kafka: KafkaSettings, origin: str, public_key: bytes) -> StreamConsumer:
    """A consumer of `origin`'s topics as MirrorMaker 2 names them here, verified with its key."""
    settings = kafka.model_copy(update={"topic_template": f"{origin}.{kafka.topic_template}"})
    return StreamConsumer(settings, OriginProjector(replica, origin, public_key), list(ORIGIN_STREAMS),
                          group=f"civitas-counter-{origin}", site_keys={origin: public_key})
