"""The site's signed checkpoints reach the projector with the events they close, from Kafka and from a gap's filling."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer

from civitas_kernel.kafka import LogSource, StreamConsumer
from civitas_kernel.kafka import codec
from civitas_kernel.testing.events import votes
from civitas_kernel.tracking import Projector

SITE = "alpha.example.org"


class RecordingProjector(Projector):
    """Keeps every checkpoint handed over, by position."""

    def __init__(self, engine, consumer: str) -> None:
        super().__init__(engine, consumer)
        self.checkpoints: dict[int, bytes] = {}

    def apply_all(self, conn, events, checkpoints) -> None:
        self.checkpoints.update({seq: signed for (_, _, seq), signed in checkpoints.items()})


def run_scenario(settings, log, projector, *, site_keys) -> StreamConsumer:
    for n in (3, 2, 2):  # three appends: the site signs positions 3, 5 and 7
        log.append("vote", votes(n))
    events = list(log.read("vote"))
    signed = log.checkpoints_between("vote")

    async def scenario():
        producer = AIOKafkaProducer(bootstrap_servers=settings.servers, acks="all")
        await producer.start()
        async with StreamConsumer(settings, projector, ["vote"], source=LogSource(log), site_keys=site_keys,
                                  gap_retry_s=0.2) as consumer:
            for event in events[:4] + events[5:]:  # 5, which closes the second append, never reaches Kafka
                headers = [(codec.CHECKPOINT_HEADER, signed[event.seq])] if event.seq in signed else []
                await producer.send_and_wait(settings.topic("vote"), value=codec.encode(event), key=codec.key_of(SITE),
                                             headers=headers)
            deadline = asyncio.get_running_loop().time() + 20
            while projector.position(SITE, "vote") < 7:
                assert asyncio.get_running_loop().time() < deadline, f"stuck; waiting={consumer.waiting}"
                await consumer.poll(timeout_ms=200)
        await producer.stop()
        return consumer

    return asyncio.run(scenario())


def test_checkpoints_of_a_pinned_site_reach_the_projector_also_for_events_filled_from_the_log(
    kafka_broker, sqlite_log, projection
):
    projector = RecordingProjector(projection.engine, "recording")
    consumer = run_scenario(kafka_broker.settings(), sqlite_log, projector, site_keys={SITE: sqlite_log.key.public_key})
    assert not consumer.parked
    assert projector.checkpoints == sqlite_log.checkpoints_between("vote")
    assert sorted(projector.checkpoints) == [3, 5, 7]  # 5 came from the log of record, with its checkpoint


def test_checkpoints_of_a_site_nobody_pinned_are_checked_but_not_handed_on(kafka_broker, sqlite_log, projection):
    projector = RecordingProjector(projection.engine, "recording")
    consumer = run_scenario(kafka_broker.settings(), sqlite_log, projector, site_keys={})
    assert not consumer.parked
    assert projector.position(SITE, "vote") == 7 and projector.checkpoints == {}
