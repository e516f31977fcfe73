"""The outbox relay: publishes what the log of record sealed to Kafka, and remembers how far it got.

The owning service stays the only writer of its sequence and chain; the relay only copies sealed
events out. Its position per (site, stream) lives in the log's own database and moves only after the
broker acknowledged (acks=all): a crash repeats some messages, never loses one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import InvalidProducerEpoch, OutOfOrderSequenceNumber, ProducerFenced, UnknownProducerId
from aiokafka.errors import KafkaError
from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind
from sqlalchemy import BigInteger, Column, MetaData, String, Table, select

from civitas_kernel import telemetry
from civitas_kernel.kafka import codec
from civitas_kernel.kafka.fresh import FreshEvents, Key, SealedRow
from civitas_kernel.kafka.settings import KafkaSettings
from civitas_kernel.kafka.topics import ensure_topics
from civitas_kernel.sql.base import SqlEventLog

log = logging.getLogger("civitas.kafka.relay")

outbox_metadata = MetaData()

outbox = Table(
    "kafka_outbox",
    outbox_metadata,
    Column("relay", String(100), primary_key=True),
    Column("site", String(253), primary_key=True),
    Column("stream", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),  # last position the broker acknowledged
)


# Errors after which an idempotent producer's state is useless; only a fresh producer recovers.
PRODUCER_STATE_ERRORS = (OutOfOrderSequenceNumber, UnknownProducerId, InvalidProducerEpoch, ProducerFenced)


class OutboxRelay:
    """Copies sealed events of `streams` from an SQL log to their Kafka topics, in order, at least once.

    sites: whose events to publish; default the log's own site (the one writer of its streams).
    save_every_s: how often the acknowledged positions are written down (and always at stop); a crash
        in between publishes those events again, which consumers skip by position.

    What this process appends through `log` is published from memory (the log tells the relay of each
    commit); anything else (appended elsewhere, or before the relay started) is read from the log.
    """

    def __init__(
        self,
        log: SqlEventLog,
        settings: KafkaSettings,
        streams: Sequence[str],
        *,
        name: str = "kafka",
        sites: Iterable[str] | None = None,
        batch_size: int = 5_000,
        poll_interval: float = 0.2,
        save_every_s: float = 1.0,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        if not isinstance(log, SqlEventLog):
            raise TypeError("the outbox relay needs an SQL log (its position table lives in the log's database)")
        self.log, self.settings, self.streams, self.name = log, settings, list(streams), name
        self.sites = list(sites) if sites is not None else [log.site]
        self.batch_size, self.poll_interval, self.save_every_s = batch_size, poll_interval, save_every_s
        self._tracer = telemetry.tracer(tracer_provider)
        self._metrics = telemetry.instruments(meter_provider)
        self._producer: AIOKafkaProducer | None = None
        self._acknowledged: dict[Key, int] = {}  # by the broker; read from the table at first use
        self._saved: dict[Key, int] = {}
        self._last_save = time.monotonic()
        self._fresh = FreshEvents({(site, stream) for site in self.sites for stream in self.streams})
        outbox_metadata.create_all(log.engine)
        log.on_append(self._fresh.add)

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        await ensure_topics(self.settings, self.streams)
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.servers,
            client_id=f"civitas-relay-{self.name}",
            acks="all",
            enable_idempotence=self.settings.idempotent_producer,
            linger_ms=self.settings.linger_ms,
            max_batch_size=self.settings.max_batch_bytes,
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
        await asyncio.to_thread(self._save_acknowledged)

    async def __aenter__(self) -> OutboxRelay:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    # -- positions ----------------------------------------------------------------------

    def position(self, site: str, stream: str) -> int:
        """The last position of (site, stream) written down as acknowledged: where a restarted relay resumes."""
        with self.log.engine.connect() as conn:
            row = conn.execute(
                select(outbox.c.position).where(
                    outbox.c.relay == self.name, outbox.c.site == site, outbox.c.stream == stream
                )
            ).first()
        return row[0] if row else 0

    def acknowledged(self, site: str, stream: str) -> int:
        """The last position of (site, stream) the broker acknowledged to this relay (at least `position`)."""
        key = (site, stream)
        if key not in self._acknowledged:
            self._acknowledged[key] = self._saved[key] = self.position(site, stream)
        return self._acknowledged[key]

    def rewind(self, site: str, stream: str, position: int) -> None:
        """Publish again everything after `position` (e.g. to heal a consumer parked on a lost message)."""
        self._save(site, stream, position)
        self._acknowledged[(site, stream)] = self._saved[(site, stream)] = position

    def _save(self, site: str, stream: str, position: int) -> None:
        key = (outbox.c.relay == self.name, outbox.c.site == site, outbox.c.stream == stream)
        with self.log.engine.begin() as conn:
            if conn.execute(outbox.update().where(*key).values(position=position)).rowcount == 0:
                conn.execute(outbox.insert().values(relay=self.name, site=site, stream=stream, position=position))

    def _save_acknowledged(self) -> None:
        for (site, stream), position in list(self._acknowledged.items()):
            if self._saved.get((site, stream)) != position:
                self._save(site, stream, position)
                self._saved[(site, stream)] = position
        self._last_save = time.monotonic()

    def _next_batch(self, site: str, stream: str, older_than: float = 0.0
                    ) -> tuple[list[SealedRow], dict[int, bytes]]:
        after = self.acknowledged(site, stream)
        taken = self._fresh.take((site, stream), after, self.batch_size, older_than=older_than)
        if taken is not None:
            return taken
        # Not in memory (appended elsewhere, or before we started): read the log, up to what memory holds.
        self._fresh.forget((site, stream), after)
        until = self._fresh.first((site, stream))
        until = min(until - 1, after + self.batch_size) if until is not None else after + self.batch_size
        events = [(e.seq, e.hash, e.raw) for e in self.log.read(stream, site=site, after=after, until=until)]
        if not events:
            return events, {}
        return events, self.log.checkpoints_between(stream, site=site, after=after, until=events[-1][0])

    # -- publishing ---------------------------------------------------------------------

    async def publish_pending(self, *, read_log: bool = True, leave_recent_s: float = 0.0) -> int:
        """Publish everything beyond the acknowledged positions; returns how many messages were acknowledged.

        read_log=False: only what this process appended (and any gap before it), not what others may have:
        the quick round right after an append, with no database round trip for streams that did not move.
        leave_recent_s: leave what this process appended in the last so many seconds to the quick round of the
        command that appended it (a timer's round, so that each command's events are published in its own trace).
        """
        if self._producer is None:
            raise RuntimeError("the relay is not started: use `async with OutboxRelay(...)` or await start()")
        published = 0
        for stream in self.streams:
            for site in self.sites:
                while True:
                    events, checkpoints = await self._batch(site, stream, read_log, leave_recent_s)
                    if not events:
                        break
                    try:
                        await self._publish(site, stream, events, checkpoints)
                    except PRODUCER_STATE_ERRORS:
                        # The broker no longer knows this producer's sequence (e.g. it restarted):
                        # a new producer starts a new sequence; the retry re-sends from the acknowledged position.
                        await self._restart_producer()
                        raise
                    self._acknowledged[(site, stream)] = events[-1][0]
                    self._fresh.forget((site, stream), events[-1][0])
                    published += len(events)
                    if time.monotonic() - self._last_save >= self.save_every_s:
                        await asyncio.to_thread(self._save_acknowledged)
                    if len(events) < self.batch_size and self._fresh.first((site, stream)) is None:
                        break  # nothing more known: what others append, the next round finds
        return published

    async def _batch(self, site: str, stream: str, read_log: bool, older_than: float
                     ) -> tuple[list[SealedRow], dict[int, bytes]]:
        key = (site, stream)
        if key not in self._acknowledged:
            await asyncio.to_thread(self.acknowledged, site, stream)
        taken = self._fresh.take(key, self._acknowledged[key], self.batch_size, older_than=older_than)
        if taken is not None:
            return taken  # the common case: just appended here, no database round trip
        if not read_log and self._fresh.first(key) is None:
            return [], {}
        return await asyncio.to_thread(self._next_batch, site, stream, older_than)

    async def _restart_producer(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
        await self.start()

    async def _publish(self, site: str, stream: str, events: list[SealedRow], checkpoints: dict[int, bytes]) -> None:
        topic, key = self.settings.topic(stream), codec.key_of(site)
        attributes = {
            "messaging.system": "kafka",
            "messaging.destination.name": topic,
            "messaging.batch.message_count": len(events),
            "civitas.site": site,
            "civitas.first_seq": events[0][0],
            "civitas.last_seq": events[-1][0],
        }
        with self._tracer.start_as_current_span(f"{topic} publish", kind=SpanKind.PRODUCER, attributes=attributes):
            headers = telemetry.inject_headers()
            send = self._producer.send
            acks = []
            try:
                for seq, own_hash, raw in events:
                    signed = checkpoints.get(seq)
                    extra = headers + [(codec.CHECKPOINT_HEADER, signed)] if signed is not None else headers
                    acks.append(await send(topic, value=codec.encode_sealed(raw, own_hash), key=key, headers=extra))
                await asyncio.gather(*acks)  # raises if any was not acknowledged: the position stays put
            except BaseException:
                # Let what is in flight settle before a retry re-sends it, so retries do not interleave.
                await asyncio.gather(*acks, return_exceptions=True)
                raise
        self._metrics.events_published.add(len(events), {"civitas.stream": stream})

    async def run(self, stop: asyncio.Event | None = None, *, retry_delay: float = 1.0) -> None:
        """Publish as the log grows until `stop` is set; broker errors are logged and retried."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            delay = self.poll_interval
            try:
                if await self.publish_pending():
                    delay = 0
            except KafkaError as error:
                log.warning(
                    "relay %s: publishing failed, retrying in %.1fs: %s", self.name, retry_delay, error,
                    extra={"event": "relay_retry", "relay": self.name, "error": repr(error)},
                )
                delay = retry_delay
            if delay:
                try:
                    await asyncio.wait_for(stop.wait(), delay)
                except TimeoutError:
                    pass
