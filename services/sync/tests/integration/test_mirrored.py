"""The receiving side of MirrorMaker 2: records shaped as MM2 writes them (the same bytes and headers, in topics
named `<source>.<topic>`) consumed with the verifying consumer into this site's log; doubt refused; the HTTP pull
carries on from where the mirror left the stream."""

from __future__ import annotations

import asyncio

import httpx
from aiokafka import AIOKafkaProducer

from civitas_kernel.events import NewEvent
from civitas_kernel.kafka import codec
from civitas_kernel.testing.events import trust
from civitas_schema.v1 import trust_pb2

from civitas_sync.mirrored import mirrored_consumer
from civitas_sync.pulling import Puller


def mirror(settings, origin, streams) -> None:
    """What MM2 writes here for `origin`'s topics: each record copied, key, value and headers, to `<origin>.<topic>`."""
    async def produce():
        producer = AIOKafkaProducer(bootstrap_servers=settings.servers, acks="all")
        await producer.start()
        for stream in streams:
            signed = origin.log.checkpoints_between(stream)
            for event in origin.log.read(stream):
                headers = [(codec.CHECKPOINT_HEADER, signed[event.seq])] if event.seq in signed else []
                await producer.send_and_wait(f"{origin.name}.{settings.topic(stream)}", value=codec.encode(event),
                                             key=codec.key_of(origin.name), headers=headers)
        await producer.stop()

    asyncio.run(produce())


def consume_until(consumer, done, timeout_s: float = 30) -> None:
    async def run():
        async with consumer:
            deadline = asyncio.get_running_loop().time() + timeout_s
            while not done():
                assert asyncio.get_running_loop().time() < deadline, f"stuck; waiting={consumer.waiting}"
                await consumer.poll(timeout_ms=200)

    asyncio.run(run())


def test_mirrored_topics_are_verified_into_the_log_without_doubt_and_http_carries_on(kafka_broker, make_site):
    town, county = make_site("town.example"), make_site("county.example")
    for start in range(0, 200, 50):
        town.log.append("trust", [trust(f"t{i}@example.org", "u@example.org") for i in range(start, start + 50)])
    town.log.append("doubt", [NewEvent.of(trust_pb2.TrustExtended(truster="d@example.org", trustee="e"), "d")])
    settings = kafka_broker.settings()
    mirror(settings, town, ["trust", "doubt"])  # an MM2 configured without the doubt exclusion
    consumer = mirrored_consumer(county.log, settings, town.name, town.key.public_key)
    assert sorted(consumer.streams) == ["registration", "trust"]
    consume_until(consumer, lambda: county.log.head("trust", site=town.name).seq == 200)
    assert not consumer.parked
    assert county.log.head("doubt", site=town.name).seq == 0
    assert county.log.verify(site=town.name).events == 200
    town.log.append("trust", [trust("late@example.org", "u@example.org")])
    with httpx.Client() as client:  # the HTTP surface: repair, bootstrap, or a site without Kafka, from the same head
        report = Puller(county.log, town.as_peer("sub"), {}, client).run()
    assert report.added == 1 and not report.errors


def test_a_mirrored_record_altered_on_the_way_is_parked_not_applied(kafka_broker, make_site):
    town, county = make_site("town.example"), make_site("county.example")
    town.log.append("trust", [trust(f"t{i}@example.org", "u@example.org") for i in range(20)])
    settings = kafka_broker.settings()
    events = list(town.log.read("trust"))
    signed = town.log.checkpoints_between("trust")

    async def produce():
        producer = AIOKafkaProducer(bootstrap_servers=settings.servers, acks="all")
        await producer.start()
        for event in events:
            value = codec.encode(event)
            if event.seq == 11:
                value = value.replace(b"t10@example.org", b"t10@exampla.org")
            headers = [(codec.CHECKPOINT_HEADER, signed[event.seq])] if event.seq in signed else []
            await producer.send_and_wait(f"{town.name}.{settings.topic('trust')}", value=value,
                                         key=codec.key_of(town.name), headers=headers)
        await producer.stop()

    asyncio.run(produce())
    consumer = mirrored_consumer(county.log, settings, town.name, town.key.public_key)
    consume_until(consumer, lambda: bool(consumer.parked))
    assert county.log.head("trust", site=town.name).seq == 0  # nothing past the last signed position before it
    with httpx.Client() as client:  # the mirror left verified events past its signed head: said, not a crash
        report = Puller(county.log, town.as_peer("sub"), {}, client).run()
    assert report.added == 0 and "past its head" in report.errors[0]
