"""`civitas serve sync` on Kafka: for each peer named in CIVITAS_SYNC_MIRRORED, the streams MirrorMaker 2 copies
into this site's cluster (`<peer>.<topic>`) consumed with the verifying consumer and the peer's pinned key into the
log; the HTTP worker then only compares heads for that peer's own streams (one transport at a time per stream)."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from civitas_kernel.kafka import KafkaSettings, StreamConsumer

from civitas_sync.config import read_network
from civitas_sync.domain.flows import PUBLIC, UPWARD
from civitas_sync.heads_moved import HeadsMoved
from civitas_sync.mirrored import checked_anchors, mirrored_consumer

log = logging.getLogger("civitas.sync.mirrored")


def mirrored_origins(setting: str) -> frozenset[str]:
    """CIVITAS_SYNC_MIRRORED: site names, separated by commas or spaces."""
    return frozenset(s for s in setting.replace(",", " ").split() if s)


class MirrorFollowers:
    """One consumer loop per mirrored peer: connects (retrying while the broker is away), polls, and says how it
    stands (`status`)."""

    def __init__(self, log_, home: Path, origins: frozenset[str], kafka: KafkaSettings | None = None,
                 moved: HeadsMoved | None = None) -> None:
        self.log, self.home, self.origins, self.kafka = log_, home, origins, kafka or KafkaSettings()
        self.moved = moved  # told when a round added: a reader holding the heads hears of it
        self.consumers: dict[str, StreamConsumer] = {}
        self.errors: dict[str, str | None] = {}
        self.refused: dict[str, dict[str, str]] = {}  # per origin, the streams whose declared anchor is refused
        self.last_success: dict[str, float] = {}
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    def _consumers(self) -> dict[str, StreamConsumer]:
        network = read_network(self.home, self.log.site)
        made = {}
        for origin in sorted(self.origins):
            peer = network.peer(origin)
            if peer is None or not peer.pulled:
                raise ValueError(f"CIVITAS_SYNC_MIRRORED names {origin}, which is not a sub-site or source of this "
                                 f"site; attach it first (`civitas sync attach {origin} --role sub ...`)")
            # a link declared at an anchor starts there, as over HTTP; a refused declaration leaves its stream alone
            anchors, refused = checked_anchors(peer.anchors, origin, peer.public_key)
            for stream, problem in refused.items():
                log.warning("not consuming %s/%s from the mirrored topics: %s", origin, stream, problem)
            self.refused[origin] = refused
            streams = [s for s in (UPWARD if peer.role == "sub" else PUBLIC) if s not in refused]
            if not streams:
                continue  # every stream's anchor refused: nothing to consume, said in `status`
            made[origin] = mirrored_consumer(self.log, self.kafka, origin, peer.public_key, peer.role, streams,
                                             anchors)
        return made

    async def start(self) -> None:
        self.consumers = self._consumers()  # a wrong name fails the start, saying what to do
        self._tasks = [asyncio.create_task(self._run(origin, consumer), name=f"sync-mirrored-{origin}")
                       for origin, consumer in self.consumers.items()]

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            await task
        for consumer in self.consumers.values():
            await consumer.stop()

    def status(self) -> dict:
        return {origin: {"topics": [self.consumers[origin].settings.topic(s) for s in self.consumers[origin].streams],
                         "last_success": self.last_success.get(origin),
                         "error": self.errors.get(origin) or "; ".join(self.refused.get(origin, {}).values()) or None,
                         "anchors": {s: a.seq for s, a in self.consumers[origin].projector.anchors.items()}}
                for origin in self.consumers} | {
            origin: {"topics": [], "last_success": None, "error": "; ".join(refused.values()), "anchors": {}}
            for origin, refused in self.refused.items() if refused and origin not in self.consumers}

    async def _run(self, origin: str, consumer: StreamConsumer) -> None:
        started = False
        while not self._stop.is_set() and not started:
            try:
                await consumer.start()
                started = True
            except Exception as error:  # noqa: BLE001 - the broker may come up after us
                self.errors[origin] = repr(error)
                log.warning("cannot reach Kafka for %s's mirrored topics yet, retrying: %r", origin, error)
                await consumer.stop()
                await asyncio.sleep(1.0)
        while not self._stop.is_set():
            try:
                applied = await consumer.poll(timeout_ms=200)
                self.last_success[origin], self.errors[origin] = time.time(), None
                if applied and self.moved is not None:
                    self.moved.moved()
            except Exception as error:  # noqa: BLE001 - the round was rolled back; keep consuming
                self.errors[origin] = repr(error)
                log.warning("mirrored round for %s failed, retrying: %r", origin, error)
                await asyncio.sleep(0.5)
