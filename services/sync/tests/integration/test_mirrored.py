"""The receiving side of MirrorMaker 2: records shaped as MM2 writes them (the same bytes and headers, in topics
named `<source>.<topic>`) consumed with the verifying consumer into this site's log; doubt refused; the HTTP pull
carries on from where the mirror left the stream."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from types import SimpleNamespace

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from civitas_kernel.events import NewEvent
from civitas_kernel.kafka import codec
from civitas_kernel.signing import SiteKey
from civitas_kernel.sql import open_log
from civitas_kernel.testing.events import trust
from civitas_schema.v1 import trust_pb2

from civitas_sync.config import attach_peer, declare_anchor
from civitas_sync.domain.anchors import DeclaredAnchor
from civitas_sync.mirror_worker import MirrorFollowers
from civitas_sync.mirrored import checked_anchors, mirrored_consumer
from civitas_sync.pulling import Puller
from civitas_sync.serving import heads, signed_at


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


def anchor_of(site, stream: str, seq: int) -> DeclaredAnchor:
    """The declaration `civitas sync anchor` prints for site's signed head of `stream` at `seq`."""
    event = next(iter(site.log.read(stream, after=seq - 1, until=seq)))
    return DeclaredAnchor(site.name, stream, seq, event.hash, signed_at(site.log, site.name, stream, seq))


def produce(settings, origin_name: str, stream: str, log) -> None:
    """`log`'s events of origin's stream as MM2 writes them here (key, value, checkpoint headers)."""
    async def run():
        producer = AIOKafkaProducer(bootstrap_servers=settings.servers, acks="all")
        await producer.start()
        signed = log.checkpoints_between(stream, site=origin_name)
        for event in log.read(stream, site=origin_name):
            headers = [(codec.CHECKPOINT_HEADER, signed[event.seq])] if event.seq in signed else []
            await producer.send_and_wait(f"{origin_name}.{settings.topic(stream)}", value=codec.encode(event),
                                         key=codec.key_of(origin_name), headers=headers)
        await producer.stop()

    asyncio.run(run())


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])  # the sync service keeps a PostgreSQL log as a service
def test_a_mirrored_link_declared_at_an_anchor_starts_there_and_refuses_what_came_before(kafka_broker, make_site,
                                                                                          make_database_url, backend):
    town = make_site("town.example")
    county = SimpleNamespace(log=open_log(make_database_url(backend), "county.example", SiteKey.generate()))
    forked = make_site("town.example", serve=False, key_from=town, folder="town-forked")  # another history, signed
    forked.log.append("trust", [trust(f"f{i}@example.org", "u@example.org") for i in range(100)])
    for start in range(0, 200, 50):
        town.log.append("trust", [trust(f"t{i}@example.org", "u@example.org") for i in range(start, start + 50)])
    anchor = anchor_of(town, "trust", 100)
    settings = kafka_broker.settings()
    produce(settings, town.name, "trust", forked.log)  # a stale copy MM2 carried once: 1..100 of another history
    mirror(settings, town, ["trust"])  # then every record from position 1, as MM2 copies a topic
    anchors, refused = checked_anchors([anchor], town.name, town.key.public_key)
    assert not refused
    consumer = mirrored_consumer(county.log, settings, town.name, town.key.public_key, anchors=anchors)
    consume_until(consumer, lambda: county.log.head("trust", site=town.name).seq == 200
                  and any(p.seq == 100 for p in consumer.parked.values()))

    held = county.log.anchor("trust", site=town.name)
    assert (held.seq, held.hash) == (100, anchor.hash)  # held from the anchor, recorded with the run after it
    assert [e.seq for e in county.log.read("trust", site=town.name)] == list(range(101, 201))  # nothing before it
    assert [(e.seq, e.hash) for e in county.log.read("trust", site=town.name)] == [
        (e.seq, e.hash) for e in town.log.read("trust", after=100)]
    (conflict,) = [p for p in consumer.parked.values() if p.seq == 100]  # another event at the anchor: refused
    assert "conflict" in conflict.reason
    assert county.log.verify(site=town.name).events == 100  # checked from the anchor the town signed
    served = {(s["origin"], s["stream"]): s for s in heads(county.log)["streams"]}
    assert served[town.name, "trust"]["first"] == 101  # served on only from the anchor, as over HTTP

    town.log.append("trust", [trust("late@example.org", "u@example.org")])
    mirror(settings, town, ["trust"])  # MM2 copying on; a restarted consumer goes on from where it stood
    again = mirrored_consumer(county.log, settings, town.name, town.key.public_key, anchors=anchors)
    consume_until(again, lambda: county.log.head("trust", site=town.name).seq == 201)
    assert county.log.verify(site=town.name).events == 101


def test_a_stream_the_http_pull_holds_from_an_anchor_is_carried_on_by_the_mirror_from_there(kafka_broker, make_site):
    town, county = make_site("town.example"), make_site("county.example")
    for start in range(0, 150, 50):
        town.log.append("trust", [trust(f"t{i}@example.org", "u@example.org") for i in range(start, start + 50)])
    peer = replace(town.as_peer("sub"), anchors=(anchor_of(town, "trust", 100),))
    with httpx.Client() as client:
        report = Puller(county.log, peer, {}, client).run()
    assert report.added == 50 and county.log.anchor("trust", site=town.name).seq == 100
    town.log.append("trust", [trust(f"t{i}@example.org", "u@example.org") for i in range(150, 200)])
    settings = kafka_broker.settings()
    mirror(settings, town, ["trust"])
    consumer = mirrored_consumer(county.log, settings, town.name, town.key.public_key)  # no anchor of its own
    consume_until(consumer, lambda: county.log.head("trust", site=town.name).seq == 200)
    assert not consumer.parked and county.log.verify(site=town.name).events == 100


def test_a_forged_anchor_on_a_mirrored_link_is_refused_and_its_stream_not_consumed(kafka_broker, make_site):
    town, county = make_site("town.example"), make_site("county.example")
    town.log.append("trust", [trust(f"t{i}@example.org", "u@example.org") for i in range(50)])
    town.log.append("registration", [trust("r@example.org", "u@example.org")])
    impostor = make_site("town.example", serve=False, folder="impostor")  # the town's name, another key
    impostor.log.append("trust", [trust(f"x{i}@example.org", "u@example.org") for i in range(50)])
    attach_peer(county.home, county.name, town.as_peer("sub", url="http://127.0.0.1:9"))
    declare_anchor(county.home, county.name, town.name, anchor_of(impostor, "trust", 50))
    settings = kafka_broker.settings()
    mirror(settings, town, ["trust", "registration"])
    followers = MirrorFollowers(county.log, county.home, frozenset({town.name}), kafka=settings)

    async def run():
        await followers.start()
        deadline = asyncio.get_running_loop().time() + 30
        while county.log.head("registration", site=town.name).seq < 1:
            assert asyncio.get_running_loop().time() < deadline, followers.status()
            await asyncio.sleep(0.1)
        await followers.stop()

    asyncio.run(run())
    status = followers.status()[town.name]
    assert status["topics"] == [f"{town.name}.{settings.topic('registration')}"]  # the other stream goes on
    assert "anchor refused" in status["error"] and "forged" in status["error"]
    assert county.log.head("trust", site=town.name).seq == 0 and county.log.anchor("trust", site=town.name) is None
