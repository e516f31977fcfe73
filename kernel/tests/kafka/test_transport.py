"""Relay and consumer end to end: every event arrives once, in order, whatever is repeated or restarted."""

from __future__ import annotations

import asyncio

import pytest

from civitas_kernel.kafka import OutboxRelay, StreamConsumer
from civitas_kernel.sql import open_log
from civitas_kernel.testing.events import trust, votes

SITE = "alpha.example.org"


def test_events_of_two_sites_and_streams_arrive_once_in_order(kafka_broker, make_log, projection, consume_until):
    settings = kafka_broker.settings()
    alpha, beta = make_log(site=SITE), make_log(site="beta.example.org")
    for log in (alpha, beta):
        for _ in range(3):
            log.append("vote", votes(40))
        log.append("trust", [trust("a@example.org", "b@example.org")] * 5)

    async def scenario():
        async with OutboxRelay(alpha, settings, ["vote", "trust"]) as r1, OutboxRelay(beta, settings, ["vote", "trust"]) as r2:
            assert await r1.publish_pending() == 125 and await r2.publish_pending() == 125
            assert await r1.publish_pending() == 0  # its position is saved
            async with StreamConsumer(settings, projection.projector, ["vote", "trust"]) as consumer:
                await consume_until(consumer, lambda: projection.count() == 250)
                alpha.append("vote", votes(10))  # later appends follow
                assert await r1.publish_pending() == 10
                await consume_until(consumer, lambda: projection.count() == 260)
                assert not consumer.parked
        assert r1.position(SITE, "vote") == 130

    asyncio.run(scenario())
    assert projection.rows(SITE, "vote") == list(range(1, 131))
    assert projection.rows("beta.example.org", "vote") == list(range(1, 121))
    assert projection.rows("beta.example.org", "trust") == [1, 2, 3, 4, 5]
    assert projection.projector.head(SITE, "vote") == (130, alpha.head("vote").hash)


def test_a_relay_that_crashes_before_saving_its_position_publishes_again_and_nothing_changes(
    kafka_broker, sqlite_log, projection, consume_until, monkeypatch
):
    settings = kafka_broker.settings()
    sqlite_log.append("vote", votes(300))

    async def scenario():
        crashing = OutboxRelay(sqlite_log, settings, ["vote"], batch_size=100, save_every_s=0)  # save after each batch
        calls = []

        def crash_after_second_batch(site, stream, position):
            calls.append(position)
            if len(calls) == 2:
                raise KeyboardInterrupt("power cut after the broker acknowledged")
            if len(calls) == 1:  # after the cut the process is gone: it writes nothing more
                OutboxRelay._save(crashing, site, stream, position)

        monkeypatch.setattr(crashing, "_save", crash_after_second_batch)
        async with crashing:
            with pytest.raises(KeyboardInterrupt):
                await crashing.publish_pending()
        assert crashing.position(SITE, "vote") == 100
        async with OutboxRelay(sqlite_log, settings, ["vote"]) as relay:
            assert await relay.publish_pending() == 200  # 101..200 a second time, then the rest
            async with StreamConsumer(settings, projection.projector, ["vote"]) as consumer:
                await consume_until(consumer, lambda: projection.projector.position(SITE, "vote") == 300)
                relay.rewind(SITE, "vote", 0)  # and everything once more
                assert await relay.publish_pending() == 300
                for _ in range(5):
                    await consumer.poll(timeout_ms=200)
                assert not consumer.parked

    asyncio.run(scenario())
    assert projection.rows(SITE, "vote") == list(range(1, 301))


def test_a_consumer_killed_mid_stream_resumes_with_nothing_lost_or_doubled(
    kafka_broker, sqlite_log, projection, consume_until, monkeypatch
):
    settings = kafka_broker.settings(max_poll_records=250)
    for _ in range(4):
        sqlite_log.append("vote", votes(500))

    async def scenario():
        async with OutboxRelay(sqlite_log, settings, ["vote"]) as relay:
            await relay.publish_pending()
        first = StreamConsumer(settings, projection.projector, ["vote"])
        await first.start()
        await consume_until(first, lambda: projection.projector.position(SITE, "vote") >= 500)
        # Killed between the projection's commit and Kafka's offset commit: its last rounds are redelivered.
        async def no_commit(consumer):
            return None

        monkeypatch.setattr(first, "_commit", no_commit)
        await consume_until(first, lambda: projection.projector.position(SITE, "vote") >= 1000)
        await first._consumer.stop()  # no final commit, as in a crash
        assert projection.projector.position(SITE, "vote") < 2000

        async with StreamConsumer(settings, projection.projector, ["vote"]) as second:
            await consume_until(second, lambda: projection.projector.position(SITE, "vote") == 2000)
        # A consumer whose group has no offsets at all reads from the start and skips by position.
        async with StreamConsumer(settings, projection.projector, ["vote"], group="fresh") as third:
            for _ in range(5):
                await third.poll(timeout_ms=300)
            assert not third.parked

    asyncio.run(scenario())
    assert projection.rows(SITE, "vote") == list(range(1, 2001))


def test_a_broker_restarted_mid_stream_loses_and_doubles_nothing(noida_broker, sqlite_log, projection):
    settings = noida_broker.settings()

    async def scenario():
        stop = asyncio.Event()
        relay = OutboxRelay(sqlite_log, settings, ["vote"], poll_interval=0.05)
        consumer = StreamConsumer(settings, projection.projector, ["vote"])
        await relay.start()
        await consumer.start()
        tasks = [asyncio.create_task(relay.run(stop, retry_delay=0.2)), asyncio.create_task(consumer.run(stop, retry_delay=0.2))]
        try:
            for round_ in range(6):
                sqlite_log.append("vote", votes(200, start=round_ * 200))
                await asyncio.sleep(0.2)
                if round_ == 2:
                    await asyncio.to_thread(noida_broker.stop)
                    sqlite_log.append("vote", votes(100))  # appended while the broker is down
                    await asyncio.sleep(1.0)
                    await asyncio.to_thread(noida_broker.start)
            for _ in range(300):
                if projection.projector.position(SITE, "vote") == 1300:
                    break
                await asyncio.sleep(0.1)
        finally:
            stop.set()
            await asyncio.gather(*tasks)
            await consumer.stop()
            await relay.stop()

    asyncio.run(scenario())
    assert projection.rows(SITE, "vote") == list(range(1, 1301))


def test_a_relay_whose_producer_the_broker_forgot_starts_a_new_one_and_publishes_again(
    kafka_broker, sqlite_log, projection, consume_until, monkeypatch
):
    from aiokafka.errors import OutOfOrderSequenceNumber

    settings = kafka_broker.settings()
    sqlite_log.append("vote", votes(50))

    async def scenario():
        async with OutboxRelay(sqlite_log, settings, ["vote"]) as relay:
            first_producer, real_publish = relay._producer, relay._publish
            failures = []

            async def forgotten_once(*args):
                if not failures:
                    failures.append(1)
                    raise OutOfOrderSequenceNumber()  # what a broker that lost the producer's sequence answers
                await real_publish(*args)

            monkeypatch.setattr(relay, "_publish", forgotten_once)
            with pytest.raises(OutOfOrderSequenceNumber):
                await relay.publish_pending()
            assert relay._producer is not first_producer and relay.position(SITE, "vote") == 0
            assert await relay.publish_pending() == 50
            async with StreamConsumer(settings, projection.projector, ["vote"]) as consumer:
                await consume_until(consumer, lambda: projection.projector.position(SITE, "vote") == 50)

    asyncio.run(scenario())
    assert projection.rows(SITE, "vote") == list(range(1, 51))


def test_a_relay_publishes_its_own_process_appends_from_memory_and_reads_the_rest_from_the_log(
    kafka_broker, sqlite_log, tmp_path, projection, consume_until, monkeypatch
):
    settings = kafka_broker.settings()
    elsewhere = open_log(str(sqlite_log.engine.url), SITE, sqlite_log.key)  # another process on the same database
    sqlite_log.append("vote", votes(5))  # before the relay existed
    relay = OutboxRelay(sqlite_log, settings, ["vote"], save_every_s=3600)
    sqlite_log.append("vote", votes(3))
    elsewhere.append("vote", votes(2))
    sqlite_log.append("vote", votes(2))
    read_from_log: list[int] = []
    real_read = sqlite_log.read

    def read(stream, **kwargs):
        for event in real_read(stream, **kwargs):
            read_from_log.append(event.seq)
            yield event

    monkeypatch.setattr(sqlite_log, "read", read)

    async def scenario():
        async with relay:
            assert await relay.publish_pending() == 12
            assert relay.acknowledged(SITE, "vote") == 12 and relay.position(SITE, "vote") == 0  # written down later
            async with StreamConsumer(settings, projection.projector, ["vote"],
                                      site_keys={SITE: sqlite_log.key.public_key}) as consumer:
                await consume_until(consumer, lambda: projection.projector.position(SITE, "vote") == 12)
                assert not consumer.parked  # every checkpoint travelled with the event it closes, and verified
        assert relay.position(SITE, "vote") == 12  # stopping wrote it down

    asyncio.run(scenario())
    assert read_from_log == [1, 2, 3, 4, 5, 9, 10]  # what this relay's process did not append itself
    assert projection.rows(SITE, "vote") == list(range(1, 13))


def test_a_timers_round_leaves_fresh_events_to_the_round_of_the_command_that_appended_them(
    kafka_broker, sqlite_log
):
    settings = kafka_broker.settings()
    relay = OutboxRelay(sqlite_log, settings, ["vote"])

    async def scenario():
        async with relay:
            sqlite_log.append("vote", votes(3))
            assert await relay.publish_pending(leave_recent_s=1.0) == 0  # the command's own round is coming
            assert await relay.publish_pending(read_log=False) == 3  # and here it is
            sqlite_log.append("vote", votes(2))
            await asyncio.sleep(0.1)
            assert await relay.publish_pending(leave_recent_s=0.05) == 2  # nobody came for these: the timer takes them

    asyncio.run(scenario())
