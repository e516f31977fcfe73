"""The consumer: reads stream topics, verifies each message, and applies it through a Projector.

Rows and position commit together in the Projector, so redelivery and duplicates change nothing.
Kafka offsets are only a bookmark: they are committed after the Projector and never past a message
that is still waiting for a gap, so a restart at any point re-reads what it needs and skips the rest
by position. A message that can never apply (undecodable, tampered, forged, chain broken) is parked
and reported; one after a gap is parked, held, and applied once the missing events arrive.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind

from civitas_kernel import telemetry
from civitas_kernel.collector import collector_paused
from civitas_kernel.events import RecordedEvent
from civitas_kernel.kafka.settings import KafkaSettings
from civitas_kernel.kafka.topics import ensure_topics
from civitas_kernel.kafka.source import Source
from civitas_kernel.kafka.verify import Verdict, check_checkpoint, checkpoint_of, decode_message, judge
from civitas_kernel.tracking import Projector

log = logging.getLogger("civitas.kafka.consumer")

Key = tuple[str, str]  # (site, stream)
PACED_WINDOW_MS = 1  # with idle_backoff_ms: how long one poll lets the fetcher run (a fetch round trip, with room)


@dataclass(frozen=True, slots=True)
class ParkedMessage:
    """A message the consumer did not apply, and why. Gap messages leave this list once applied."""

    topic: str
    partition: int
    offset: int
    site: str | None
    stream: str | None
    seq: int | None
    reason: str
    value: bytes | None
    parked_at_us: int

    @property
    def waiting(self) -> bool:
        """True for a message held until the events before it arrive (it will still apply)."""
        return self.reason.startswith("gap")


@dataclass(slots=True)
class _Held:
    event: RecordedEvent
    tp: TopicPartition
    offset: int
    checkpoint: bytes | None  # verified against the pinned key, when it travelled with the event


@dataclass(slots=True)
class _Accepted:
    """What one round hands the Projector: events that continue their chains, and the checkpoints closing some."""

    events: list[RecordedEvent] = field(default_factory=list)
    checkpoints: dict[tuple[str, str, int], bytes] = field(default_factory=dict)

    def add(self, event: RecordedEvent, checkpoint: bytes | None) -> None:
        self.events.append(event)
        if checkpoint is not None:
            self.checkpoints[(event.site, event.stream, event.seq)] = checkpoint


class StreamConsumer:
    """Applies the events of `streams` from Kafka to `projector`, verified, in order, each once.

    group: the consumer group (default settings.consumer_group); one group per projection.
    source: the log of record (a Source, e.g. LogSource(log)), if this process can reach it: gaps are then
        filled from it.
    site_keys: pinned Ed25519 public keys per site; checkpoints travelling with messages must verify against them,
        and only checkpoints of a pinned site reach the projector (Projector.apply_all's `checkpoints`).
    gap_retry_s: how long a gap may last before the consumer re-reads the partition or asks `source`.
    """

    def __init__(
        self,
        settings: KafkaSettings,
        projector: Projector,
        streams: Sequence[str],
        *,
        group: str | None = None,
        source: Source | None = None,
        site_keys: Mapping[str, bytes] | None = None,
        gap_retry_s: float = 1.0,
        max_held: int = 100_000,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self.settings, self.projector, self.streams = settings, projector, list(streams)
        self.group = group or settings.consumer_group
        self.source, self.site_keys = source, dict(site_keys or {})
        self.gap_retry_s, self.max_held = gap_retry_s, max_held
        self._tracer = telemetry.tracer(tracer_provider)
        self._metrics = telemetry.instruments(meter_provider)
        self._topic_stream = {settings.topic(s): s for s in self.streams}
        self._consumer: AIOKafkaConsumer | None = None
        self._backlog = True  # until a round comes back short: a new consumer usually starts behind
        self._lock = asyncio.Lock()  # one processing round or rebalance at a time
        self.parked: dict[tuple[str, int, int], ParkedMessage] = {}
        self._forget_all()

    def _forget_all(self) -> None:
        self._heads: dict[Key, tuple[int, bytes | None]] = {}  # accepted tip per site-stream
        self._held: dict[Key, dict[int, _Held]] = {}  # gap messages by position
        self._gap_since: dict[Key, float] = {}
        self._unsettled: dict[TopicPartition, set[int]] = {}  # offsets a commit must not pass
        self._next: dict[TopicPartition, int] = {}  # next offset to read
        self._committed: dict[TopicPartition, int] = {}
        self._rewind: dict[TopicPartition, int] = {}  # dropped held messages: re-read from here once healed
        self._reread: set[TopicPartition] = set()  # partitions re-read once for the current stall

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        await ensure_topics(self.settings, self.streams)
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.servers,
            client_id=f"civitas-consumer-{self.group}",
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self.settings.session_timeout_ms,
            heartbeat_interval_ms=self.settings.heartbeat_interval_ms,
            max_partition_fetch_bytes=self.settings.fetch_partition_bytes,
        )
        await self._consumer.start()
        self._consumer.subscribe(topics=sorted(self._topic_stream), listener=_Rebalance(self))

    async def stop(self) -> None:
        if self._consumer is not None:
            consumer, self._consumer = self._consumer, None
            try:
                await self._commit(consumer)
            except KafkaError as error:
                log.info("final offset commit failed (harmless: positions are in the projection): %s", error)
            await consumer.stop()

    async def __aenter__(self) -> StreamConsumer:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    @property
    def waiting(self) -> dict[Key, tuple[int, int]]:
        """Site-streams stalled on a gap: (first missing position, first held position)."""
        return {key: (self._head(key)[0] + 1, min(held)) for key, held in self._held.items() if held}

    # -- consuming ----------------------------------------------------------------------

    async def poll(self, timeout_ms: int = 1000) -> int:
        """One round: fetch, verify, apply in one Projector transaction, commit offsets; returns events applied."""
        if self._consumer is None:
            raise RuntimeError("the consumer is not started: use `async with StreamConsumer(...)` or await start()")
        consumer = self._consumer
        batch = await self._fetch(consumer, timeout_ms)
        async with self._lock:
            batch = {tp: records for tp, records in batch.items() if tp in consumer.assignment()}
            try:
                applied = await asyncio.to_thread(self._round, batch)
            except Exception:
                self._rewind_to_committed(consumer)
                raise
            self._seek_where_needed(consumer)
            await self._commit(consumer)
            self._record_lag(consumer, batch)
        return applied

    async def _fetch(self, consumer: AIOKafkaConsumer, timeout_ms: int) -> dict[TopicPartition, list]:
        backoff_ms, most = self.settings.idle_backoff_ms, self.settings.max_poll_records
        if not backoff_ms:
            return await consumer.getmany(timeout_ms=timeout_ms, max_records=most)
        # Paced: the fetcher runs only inside this window, so a broker that never holds a fetch cannot make it spin.
        # Behind a backlog the next fetch surely brings data: let it take its time, and keep fetching while this
        # round is applied.
        window = timeout_ms if self._backlog else min(timeout_ms, PACED_WINDOW_MS)
        assigned = consumer.assignment()
        consumer.resume(*assigned)
        try:
            batch = await consumer.getmany(timeout_ms=window, max_records=most)
            self._backlog = _behind(consumer, assigned, batch, most)
        finally:
            if not self._backlog:
                consumer.pause(*assigned)
        if not batch:
            await asyncio.sleep(min(timeout_ms, backoff_ms) / 1000)
        return batch

    async def run(self, stop: asyncio.Event | None = None, *, retry_delay: float = 1.0) -> None:
        """Poll until `stop` is set; a failing round is logged, rolled back and retried."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                await self.poll(timeout_ms=200)
            except Exception as error:  # noqa: BLE001 - the round was rolled back; keep serving
                log.error(
                    "consumer %s: round failed, retrying in %.1fs: %r", self.group, retry_delay, error,
                    extra={"event": "consumer_retry", "group": self.group, "error": repr(error)},
                )
                try:
                    await asyncio.wait_for(stop.wait(), retry_delay)
                except TimeoutError:
                    pass

    # -- one round (runs in a worker thread; the lock keeps rebalances out) -----------------

    def _round(self, batch: dict[TopicPartition, list]) -> int:
        with collector_paused():  # a round makes tens of thousands of objects and no cycles
            return self._apply_round(batch)

    def _apply_round(self, batch: dict[TopicPartition, list]) -> int:
        accepted = _Accepted()
        spans: list[trace.Span] = []
        for tp, records in batch.items():
            stream = self._topic_stream[tp.topic]
            unsettled = self._unsettled.setdefault(tp, set())
            last_trace: bytes | None = None
            span_count = 0
            for record in records:
                self._next[tp] = record.offset + 1
                trace_id = telemetry.trace_header(record.headers)
                if span_count == 0 or trace_id != last_trace:
                    # One span per run of messages sharing a producer context: its parent is that producer span.
                    if span_count:
                        spans[-1].set_attribute("messaging.batch.message_count", span_count)
                    spans.append(self._consumer_span(tp, record.headers))
                    last_trace, span_count = trace_id, 0
                span_count += 1
                self._take(tp, stream, record, unsettled, accepted)
            if span_count:
                spans[-1].set_attribute("messaging.batch.message_count", span_count)
        self._fill_from_source(accepted)
        try:
            applied = self.projector.handle(accepted.events, accepted.checkpoints) if accepted.events else 0
        finally:
            for span in spans:
                span.end()
        if applied != len(accepted.events):
            # The projection moved under us (another process applied some): re-read its positions.
            self._heads.clear()
        if applied:
            self._metrics.events_applied.add(applied, {"civitas.consumer": self.projector.consumer})
        return applied

    def _consumer_span(self, tp: TopicPartition, headers) -> trace.Span:
        return self._tracer.start_span(
            f"{tp.topic} process",
            context=telemetry.extract_context(headers),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": tp.topic,
                "messaging.destination.partition.id": str(tp.partition),
                "messaging.consumer.group.name": self.group,
            },
        )

    def _head(self, key: Key) -> tuple[int, bytes | None]:
        head = self._heads.get(key)
        if head is None:
            head = self._heads[key] = self.projector.head(*key)
        return head

    def _take(self, tp: TopicPartition, stream: str, record, unsettled: set[int], accepted: _Accepted) -> None:
        event = decode_message(record.value, stream)
        if isinstance(event, str):
            self._park(tp, record.offset, None, event, record.value)
            return
        key = (event.site, event.stream)
        head_seq, head_hash = self._head(key)
        verdict, reason = judge(event, head_seq, head_hash)
        if verdict is Verdict.DUPLICATE:
            return
        checkpoint = checkpoint_of(record.headers) if verdict is not Verdict.BAD else None
        if checkpoint is not None:
            problem = check_checkpoint(event, checkpoint, self.site_keys)
            if problem is not None:
                verdict, reason = Verdict.BAD, problem
            elif event.site not in self.site_keys:
                checkpoint = None  # signed, but by a key nobody pinned: not for the projector to rely on
        if verdict is Verdict.NEXT:
            accepted.add(event, checkpoint)
            self._heads[key] = (event.seq, event.hash)
            if key in self._held:
                self._release(key, accepted)
        elif verdict is Verdict.GAP:
            self._hold(key, _Held(event, tp, record.offset, checkpoint), unsettled, reason, record.value)
        else:
            self._park(tp, record.offset, event, reason, record.value)

    def _hold(self, key: Key, held: _Held, unsettled: set[int], reason: str, value: bytes | None) -> None:
        waiting = self._held.setdefault(key, {})
        unsettled.add(held.offset)  # commits stop before it, so a restart reads it again
        if not waiting:
            self._gap_since[key] = time.monotonic()
        if len(waiting) >= self.max_held and held.event.seq not in waiting:
            # Memory is bounded: forget it and read it again from Kafka once the gap is healed.
            self._rewind[held.tp] = min(held.offset, self._rewind.get(held.tp, held.offset))
            return
        waiting[held.event.seq] = held
        self._park(held.tp, held.offset, held.event, reason, value, quiet=len(waiting) > 1)

    def _release(self, key: Key, accepted: _Accepted) -> None:
        """Apply held events that now continue the chain; settle those the chain has passed."""
        waiting = self._held[key]
        head_seq, head_hash = self._head(key)
        for seq in [s for s in waiting if s <= head_seq]:
            self._settle(waiting.pop(seq))
        while head_seq + 1 in waiting:
            held = waiting.pop(head_seq + 1)
            self._settle(held)
            verdict, reason = judge(held.event, head_seq, head_hash)
            if verdict is not Verdict.NEXT:
                self._park(held.tp, held.offset, held.event, reason, None)
                break
            accepted.add(held.event, held.checkpoint)
            head_seq, head_hash = held.event.seq, held.event.hash
        self._heads[key] = (head_seq, head_hash)
        if not waiting:
            del self._held[key]
            self._gap_since.pop(key, None)
            log.info("%s/%s: gap healed at position %d", *key, head_seq, extra={"event": "gap_healed", "site": key[0], "stream": key[1]})

    def _settle(self, held: _Held) -> None:
        self._unsettled.get(held.tp, set()).discard(held.offset)
        self.parked.pop((held.tp.topic, held.tp.partition, held.offset), None)
        self._reread.discard(held.tp)

    def _park(self, tp: TopicPartition, offset: int, event: RecordedEvent | None, reason: str, value: bytes | None, quiet: bool = False) -> None:
        site, stream, seq = (event.site, event.stream, event.seq) if event else (None, None, None)
        self.parked[(tp.topic, tp.partition, offset)] = ParkedMessage(
            tp.topic, tp.partition, offset, site, stream, seq, reason, value, time.time_ns() // 1000
        )
        kind = reason.split(":", 1)[0]
        self._metrics.events_parked.add(1, {"civitas.reason": kind, "messaging.destination.name": tp.topic})
        if quiet:  # one line per gap, not one per message behind it
            return
        log.log(
            logging.WARNING if kind == "gap" else logging.ERROR,
            "parked %s[%d]@%d (%s/%s #%s): %s", tp.topic, tp.partition, offset, site, stream, seq, reason,
            extra={"event": "parked", "topic": tp.topic, "partition": tp.partition, "offset": offset,
                   "site": site, "stream": stream, "seq": seq, "reason": reason, "group": self.group},
        )

    def _fill_from_source(self, accepted: _Accepted) -> None:
        """Ask the log of record for the events missing before held ones, once a gap has lasted."""
        if self.source is None:
            return
        now = time.monotonic()
        for key in [k for k, since in self._gap_since.items() if now - since >= self.gap_retry_s]:
            site, stream = key
            head_seq, head_hash = self._head(key)
            until = min(self._held[key]) - 1
            for event, checkpoint in self.source.sealed(stream, site=site, after=head_seq, until=until):
                verdict, reason = judge(event, head_seq, head_hash)
                if verdict is Verdict.NEXT and checkpoint is not None:
                    problem = check_checkpoint(event, checkpoint, self.site_keys)
                    verdict, reason = (Verdict.BAD, problem) if problem else (verdict, reason)
                if verdict is not Verdict.NEXT:
                    log.error("%s/%s: the log of record fails at %d: %s", site, stream, event.seq, reason)
                    break
                accepted.add(event, checkpoint if site in self.site_keys else None)
                head_seq, head_hash = event.seq, event.hash
            self._heads[key] = (head_seq, head_hash)
            self._gap_since[key] = now
            self._release(key, accepted)

    # -- offsets --------------------------------------------------------------------------

    def _seek_where_needed(self, consumer: AIOKafkaConsumer) -> None:
        held_tps = {h.tp for waiting in self._held.values() for h in waiting.values()}
        for tp, offset in list(self._rewind.items()):
            if tp not in held_tps:  # the stall is over: read what we had to forget
                del self._rewind[tp]
                self._restart_partition(consumer, tp, offset)
        if self.source is not None:
            return
        now = time.monotonic()
        for key, since in self._gap_since.items():
            waiting = self._held.get(key)
            tp = next(iter(waiting.values())).tp if waiting else None
            if tp is not None and tp not in self._reread and now - since >= self.gap_retry_s:
                # The missing events may sit below our offsets (e.g. the projection was rebuilt): read the partition again, once.
                self._reread.add(tp)
                log.warning("%s/%s: still waiting for positions %d..; re-reading %s[%d] from its start",
                            *key, self._head(key)[0] + 1, tp.topic, tp.partition)
                self._restart_partition(consumer, tp, 0)

    def _restart_partition(self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> None:
        if tp not in consumer.assignment():
            return
        unsettled = self._unsettled.get(tp, set())
        for held_offset in [o for o in unsettled if o >= offset]:
            unsettled.discard(held_offset)  # read again, judged again
        self._next[tp] = min(self._next.get(tp, offset), offset)
        consumer.seek(tp, offset)

    def _rewind_to_committed(self, consumer: AIOKafkaConsumer) -> None:
        # A failed round may have advanced our view beyond what the projection holds: start over from the bookmarks.
        for tp in list(self._next):
            if tp in consumer.assignment():
                consumer.seek(tp, self._committed.get(tp, 0))
        self._forget_all()

    async def _commit(self, consumer: AIOKafkaConsumer) -> None:
        offsets = {}
        for tp, next_offset in self._next.items():
            unsettled = self._unsettled.get(tp)
            offset = min(unsettled) if unsettled else next_offset
            offset = min(offset, next_offset)
            if self._committed.get(tp) != offset and tp in consumer.assignment():
                offsets[tp] = offset
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except KafkaError as error:
            # Harmless: the projection holds the positions; a redelivery is skipped.
            log.info("offset commit failed, will retry: %s", error)
            return
        self._committed.update(offsets)

    def _record_lag(self, consumer: AIOKafkaConsumer, batch: dict) -> None:
        # From fetch responses' high watermarks: a metric only, never used for correctness.
        for tp in batch:
            highwater = consumer.highwater(tp)
            if highwater is not None and tp in self._next:
                self._metrics.consumer_lag.record(
                    max(0, highwater - self._next[tp]), {"messaging.destination.name": tp.topic, "messaging.consumer.group.name": self.group}
                )

    async def _revoked(self, revoked) -> None:
        async with self._lock:
            if self._consumer is not None:
                await self._commit(self._consumer)
            for tp in revoked:
                for mapping in (self._unsettled, self._next, self._committed, self._rewind):
                    mapping.pop(tp, None)
                self._reread.discard(tp)
            for key in list(self._held):
                self._held[key] = {s: h for s, h in self._held[key].items() if h.tp not in revoked}
                if not self._held[key]:
                    del self._held[key]
                    self._gap_since.pop(key, None)
            self._heads.clear()  # another member may move these site-streams now


def _behind(consumer: AIOKafkaConsumer, assigned: set[TopicPartition], batch: dict[TopicPartition, list], most: int) -> bool:
    """Whether the next fetch surely brings data: the round was full, a partition's first fetch has not answered
    yet (a large topic's first fetch can take longer than a poll), or the broker's answer showed more than we took."""
    if sum(len(records) for records in batch.values()) >= most:
        return True
    for tp in assigned:
        highwater = consumer.highwater(tp)  # from the last fetch response; None before the first
        if highwater is None:
            return True
        records = batch.get(tp)
        if records and highwater > records[-1].offset + 1:
            return True
    return False


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, owner: StreamConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked) -> None:
        await self.owner._revoked(set(revoked))

    async def on_partitions_assigned(self, assigned) -> None:
        async with self.owner._lock:
            self.owner._heads.clear()  # positions are read afresh from the projection
