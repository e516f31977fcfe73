"""Messages that must not apply: parked and reported, never skipped over; the stream continues once healed."""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaProducer
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from civitas_kernel.kafka import LogSource, StreamConsumer
from civitas_kernel.kafka import codec
from civitas_kernel.signing import SiteKey
from civitas_kernel.sql import open_log
from civitas_kernel.testing.events import votes
from civitas_kernel.testing.metrics import metric_points
from civitas_schema.v1 import envelope_pb2

SITE = "alpha.example.org"


def flipped(event) -> bytes:
    """The event's message with one bit of its envelope flipped (in the last byte of prev_hash)."""
    raw = bytearray(event.raw)
    raw[-1] ^= 0x01
    return envelope_pb2.SealedEvent(envelope=bytes(raw), hash=event.hash).SerializeToString()


def with_checkpoint(signed) -> list[tuple[str, bytes]]:
    return [(codec.CHECKPOINT_HEADER, signed.SerializeToString())]


def parked_counts(reader: InMemoryMetricReader) -> dict[str, int]:
    return {p.attributes["civitas.reason"]: p.value for p in metric_points(reader, "civitas.kafka.events.parked")}


def test_corrupt_forged_forked_and_gapped_messages_are_parked_until_the_missing_events_arrive(
    kafka_broker, sqlite_log, tmp_path, projection, consume_until, caplog
):
    settings = kafka_broker.settings()
    topic = settings.topic("vote")
    sqlite_log.append("vote", votes(12))
    events = list(sqlite_log.read("vote"))
    fork = open_log(f"sqlite:///{tmp_path / 'fork.sqlite'}", SITE, SiteKey.generate())  # same site name, another key
    fork.append("vote", votes(12, poll="forged-poll"))
    forked = list(fork.read("vote"))
    forged_checkpoint = fork.checkpoints("vote")[-1]  # signed by the wrong key
    honest_key = sqlite_log.key.public_key
    reader = InMemoryMetricReader()
    caplog.set_level(logging.WARNING, logger="civitas.kafka")

    async def scenario():
        producer = AIOKafkaProducer(bootstrap_servers=settings.servers, acks="all")
        await producer.start()

        async def send(value: bytes, headers=None) -> None:
            await producer.send_and_wait(topic, value=value, key=codec.key_of(SITE), headers=headers or [])

        consumer = StreamConsumer(
            settings, projection.projector, ["vote"], site_keys={SITE: honest_key}, gap_retry_s=0.3,
            meter_provider=MeterProvider(metric_readers=[reader]),
        )
        async with consumer:
            for event in events[:3]:
                await send(codec.encode(event))
            await send(flipped(events[3]))  # tampered
            await send(b"\x00not a sealed event")  # undecodable
            for event in events[4:6]:
                await send(codec.encode(event))  # 5 and 6 come after a gap
            await consume_until(consumer, lambda: len(consumer.parked) == 4)
            for _ in range(4):  # it waits (and re-reads once) rather than skipping
                await consumer.poll(timeout_ms=200)
            assert projection.projector.position(SITE, "vote") == 3
            assert consumer.waiting == {(SITE, "vote"): (4, 5)}
            reasons = sorted(p.reason.split(":")[0] for p in consumer.parked.values())
            assert reasons == ["gap", "gap", "tampered", "undecodable"]

            await send(codec.encode(events[3]))  # the missing event arrives: 4, then the held 5 and 6
            await consume_until(consumer, lambda: projection.projector.position(SITE, "vote") == 6)
            assert not consumer.waiting

            await send(codec.encode(forked[6]))  # a fork's event 7: does not link to our event 6
            await send(codec.encode(events[6]), with_checkpoint(forged_checkpoint))  # forged signature
            await send(codec.encode(events[6]), with_checkpoint(sqlite_log.checkpoints("vote")[-1]))  # wrong position
            await send(codec.encode(events[6]))
            for event in events[7:]:
                await send(codec.encode(event))
            await consume_until(consumer, lambda: projection.projector.position(SITE, "vote") == 12)
        await producer.stop()
        return consumer

    consumer = asyncio.run(scenario())
    assert projection.rows(SITE, "vote") == list(range(1, 13))
    reasons = sorted(p.reason for p in consumer.parked.values())
    assert [r.split(":")[0] for r in reasons] == ["chain broken", "forged", "forged", "tampered", "undecodable"]
    assert all(not p.waiting for p in consumer.parked.values())
    counts = parked_counts(reader)
    assert counts["gap"] >= 2 and counts["tampered"] >= 1 and counts["forged"] == 2 and counts["chain broken"] == 1
    logged = [r for r in caplog.records if getattr(r, "event", None) == "parked"]
    assert {r.reason.split(":")[0] for r in logged} >= {"tampered", "undecodable", "gap", "forged", "chain broken"}
    assert all(r.topic == topic and r.site in (SITE, None) for r in logged)


def test_a_gap_is_filled_from_the_log_of_record_when_the_consumer_can_read_it(
    kafka_broker, sqlite_log, projection, consume_until
):
    settings = kafka_broker.settings()
    sqlite_log.append("vote", votes(8))
    events = list(sqlite_log.read("vote"))

    async def scenario():
        producer = AIOKafkaProducer(bootstrap_servers=settings.servers, acks="all")
        await producer.start()
        async with StreamConsumer(settings, projection.projector, ["vote"], source=LogSource(sqlite_log),
                                  gap_retry_s=0.2) as consumer:
            for event in events[:3] + events[5:]:  # 4 and 5 never reach Kafka
                await producer.send_and_wait(settings.topic("vote"), value=codec.encode(event), key=codec.key_of(SITE))
            await consume_until(consumer, lambda: projection.projector.position(SITE, "vote") == 8)
            assert not consumer.parked and not consumer.waiting
        await producer.stop()

    asyncio.run(scenario())
    assert projection.rows(SITE, "vote") == list(range(1, 9))
