"""Pacing: a consumer behind its topic keeps fetching; one that has caught up rests instead of spinning."""

from __future__ import annotations

import asyncio
import time

from aiokafka import TopicPartition

from civitas_kernel.kafka import OutboxRelay, StreamConsumer
from civitas_kernel.kafka.consumer import _behind
from civitas_kernel.testing.events import votes

TP, OTHER = TopicPartition("t.vote", 0), TopicPartition("t.vote", 1)


class Record:
    def __init__(self, offset: int) -> None:
        self.offset = offset


class Fetched:
    """What _behind reads of aiokafka's consumer: the high watermark of the last fetch response per partition."""

    def __init__(self, **highwaters) -> None:
        self.highwaters = {TP: highwaters.get("tp"), OTHER: highwaters.get("other")}

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.highwaters[tp]


def test_behind_while_a_first_fetch_is_on_its_way_or_the_broker_showed_more_than_the_round_took():
    assert _behind(Fetched(tp=100, other=None), {TP, OTHER}, {}, most=10)  # OTHER's first fetch has not answered
    assert _behind(Fetched(tp=100, other=0), {TP, OTHER}, {TP: [Record(o) for o in range(10, 15)]}, most=10)
    assert _behind(Fetched(tp=100, other=0), {TP, OTHER}, {TP: [Record(o) for o in range(10)]}, most=10)  # a full round


def test_caught_up_when_every_partition_answered_and_the_round_took_all_it_showed():
    assert not _behind(Fetched(tp=15, other=0), {TP, OTHER}, {TP: [Record(o) for o in range(10, 15)]}, most=10)
    assert not _behind(Fetched(tp=15, other=0), {TP, OTHER}, {}, most=10)


def test_an_idle_consumer_rests_between_polls_and_still_sees_new_events(kafka_broker, sqlite_log, projection,
                                                                        consume_until):
    settings = kafka_broker.settings()
    sqlite_log.append("vote", votes(20))

    async def scenario() -> float:
        async with OutboxRelay(sqlite_log, settings, ["vote"]) as relay, \
                StreamConsumer(settings, projection.projector, ["vote"]) as consumer:
            await relay.publish_pending()
            await consume_until(consumer, lambda: projection.count() == 20)
            cpu = time.process_time()
            idle_until = time.monotonic() + 2.0
            while time.monotonic() < idle_until:  # as StreamConsumer.run polls
                await consumer.poll(timeout_ms=200)
            idle_cpu = time.process_time() - cpu
            sqlite_log.append("vote", votes(5))
            await relay.publish_pending()
            await consume_until(consumer, lambda: projection.count() == 25)
            return idle_cpu

    idle_cpu = asyncio.run(scenario())
    assert idle_cpu < 0.5, f"an idle consumer used {idle_cpu:.2f} s of CPU in 2 s: its fetcher spins"
