"""The outbox relay: publishes what the log of record sealed to Kafka, and remembers how far it got.

The owning service stays the only writer of its sequence and chain; the relay only copies sealed
events out. Its position per (site, stream) lives in the log's own database and moves only after the
broker acknowledged (acks=all): a crash repeats some messages, never loses one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import InvalidProducerEpoch, OutOfOrderSequenceNumber, ProducerFenced, UnknownProducerId
from aiokafka.errors import KafkaError
from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind
from sqlalchemy import BigInteger, Column, MetaData, String, Table, select

from civitas_kernel import telemetry
from civitas_kernel.events import RecordedEvent
from civitas_kernel.kafka import codec
from civitas_kernel.kafka.settings import KafkaSettings
from civitas_kernel.kafka.topics import ensure_topics
from civitas_kernel.sql import schema
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
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        if not isinstance(log, SqlEventLog):
            raise TypeError("the outbox relay needs an SQL log (its position table lives in the log's database)")
        self.log, self.settings, self.streams, self.name = log, settings, list(streams), name
        self.sites = list(sites) if sites is not None else [log.site]
        self.batch_size, self.poll_interval = batch_size, poll_interval
        self._tracer = telemetry.tracer(tracer_provider)
        self._metrics = telemetry.instruments(meter_provider)
        self._producer: AIOKafkaProducer | None = None
        outbox_metadata.create_all(log.engine)

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

    async def __aenter__(self) -> OutboxRelay:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    # -- positions ----------------------------------------------------------------------

    def position(self, site: str, stream: str) -> int:
        """The last position of (site, stream) the broker acknowledged."""
        with self.log.engine.connect() as conn:
            row = conn.execute(
                select(outbox.c.position).where(
                    outbox.c.relay == self.name, outbox.c.site == site, outbox.c.stream == stream
                )
            ).first()
        return row[0] if row else 0

    def rewind(self, site: str, stream: str, position: int) -> None:
        """Publish again everything after `position` (e.g. to heal a consumer parked on a lost message)."""
        self._save(site, stream, position)

    def _save(self, site: str, stream: str, position: int) -> None:
        key = (outbox.c.relay == self.name, outbox.c.site == site, outbox.c.stream == stream)
        with self.log.engine.begin() as conn:
            if conn.execute(outbox.update().where(*key).values(position=position)).rowcount == 0:
                conn.execute(outbox.insert().values(relay=self.name, site=site, stream=stream, position=position))

    def _next_batch(self, site: str, stream: str) -> tuple[list[RecordedEvent], dict[int, bytes]]:
        after = self.position(site, stream)
        events: list[RecordedEvent] = []
        for event in self.log.read(stream, site=site, after=after):
            events.append(event)
            if len(events) >= self.batch_size:
                break
        if not events:
            return events, {}
        return events, self._checkpoints(site, stream, after, events[-1].seq)

    def _checkpoints(self, site: str, stream: str, after: int, until: int) -> dict[int, bytes]:
        # The site's signed checkpoints travel with the events they close, so consumers can check signatures.
        c = schema.checkpoints.c
        with self.log.engine.connect() as conn:
            rows = conn.execute(
                select(c.seq, c.signed).where(c.site == site, c.stream == stream, c.seq > after, c.seq <= until)
            ).all()
        return {seq: bytes(signed) for seq, signed in rows}

    # -- publishing ---------------------------------------------------------------------

    async def publish_pending(self) -> int:
        """Publish everything beyond the saved positions; returns how many messages were acknowledged."""
        if self._producer is None:
            raise RuntimeError("the relay is not started: use `async with OutboxRelay(...)` or await start()")
        published = 0
        for stream in self.streams:
            for site in self.sites:
                while True:
                    events, checkpoints = await asyncio.to_thread(self._next_batch, site, stream)
                    if not events:
                        break
                    try:
                        await self._publish(site, stream, events, checkpoints)
                    except PRODUCER_STATE_ERRORS:
                        # The broker no longer knows this producer's sequence (e.g. it restarted):
                        # a new producer starts a new sequence; the retry re-sends from the saved position.
                        await self.stop()
                        await self.start()
                        raise
                    await asyncio.to_thread(self._save, site, stream, events[-1].seq)
                    published += len(events)
                    if len(events) < self.batch_size:
                        break
        return published

    async def _publish(self, site: str, stream: str, events: list[RecordedEvent], checkpoints: dict[int, bytes]) -> None:
        topic, key = self.settings.topic(stream), codec.key_of(site)
        attributes = {
            "messaging.system": "kafka",
            "messaging.destination.name": topic,
            "messaging.batch.message_count": len(events),
            "civitas.site": site,
            "civitas.first_seq": events[0].seq,
            "civitas.last_seq": events[-1].seq,
        }
        with self._tracer.start_as_current_span(f"{topic} publish", kind=SpanKind.PRODUCER, attributes=attributes):
            headers = telemetry.inject_headers()
            send = self._producer.send
            acks = []
            try:
                for event in events:
                    signed = checkpoints.get(event.seq)
                    extra = headers + [(codec.CHECKPOINT_HEADER, signed)] if signed is not None else headers
                    acks.append(await send(topic, value=codec.encode(event), key=key, headers=extra))
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
