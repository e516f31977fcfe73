"""Kafka replay: 1,000,000 events from Kafka (noida-db) into an empty SQLite projection, verified, via a Projector.

Also reports how fast the outbox relay publishes them. Run: .venv/bin/python bench/kafka_replay.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import Timer, console, save, show  # noqa: E402

from civitas_kernel.kafka import OutboxRelay, StreamConsumer  # noqa: E402
from civitas_kernel.signing import SiteKey  # noqa: E402
from civitas_kernel.sql import create_engine, open_log  # noqa: E402
from civitas_kernel.testing.brokers import NoidaBroker  # noqa: E402
from civitas_kernel.testing.events import votes  # noqa: E402
from civitas_kernel.tracking import Projector  # noqa: E402

SITE = "bench.example.org"
APPEND_BATCH = 10_000


def build_log(path: Path, total: int):
    log = open_log(f"sqlite:///{path}", SITE, SiteKey.generate())
    batch = votes(APPEND_BATCH)
    for _ in range(total // APPEND_BATCH):
        log.append("vote", batch)
    return log


class VotesProjection(Projector):
    """A real projection's shape: decode each body, write a round's rows in one statement."""

    def apply_all(self, conn, events, checkpoints) -> None:
        rows = [(e.site, e.seq, (vote := e.message()).voter, vote.candidate) for e in events]
        # The driver directly: SQLAlchemy costs more per row than the rest.
        conn.connection.driver_connection.executemany("INSERT INTO votes VALUES (?, ?, ?, ?)", rows)


def make_projection(path: Path) -> Projector:
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE votes (site TEXT, seq INTEGER, voter TEXT, candidate TEXT)")
    return VotesProjection(engine, "bench-votes")


async def publish(log, settings) -> float:
    async with OutboxRelay(log, settings, ["vote"], batch_size=20_000) as relay:
        with Timer() as t:
            await relay.publish_pending()
    return t.seconds


async def replay(settings, projector: Projector, total: int) -> tuple[float, float, int]:
    """(seconds to the last event including the group join, seconds from the first applied event, rounds)."""
    start = time.perf_counter()
    first_applied = None
    rounds = 0
    async with StreamConsumer(settings, projector, ["vote"], group="bench-replay") as consumer:
        while projector.position(SITE, "vote") < total:
            applied = await consumer.poll(timeout_ms=500)
            rounds += 1
            if applied and first_applied is None:
                first_applied = time.perf_counter()
        end = time.perf_counter()
        assert not consumer.parked, list(consumer.parked.values())[:3]
    return end - start, end - (first_applied or start), rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 events, to check the benchmark runs")
    args = parser.parse_args()
    total = 100_000 if args.quick else 1_000_000
    with tempfile.TemporaryDirectory() as tmp, NoidaBroker(Path(tmp)) as broker:
        work = Path(tmp)
        settings = broker.settings(prefix="bench", partitions=1)
        with console.status(f"appending {total:,} events to the SQLite log"), Timer() as build:
            log = build_log(work / "log.sqlite", total)
        with console.status("publishing through the outbox relay"):
            publish_s = asyncio.run(publish(log, settings))
        projector = make_projection(work / "projection.sqlite")
        with console.status(f"replaying {total:,} events into an empty projection"):
            replay_s, steady_s, rounds = asyncio.run(replay(settings, projector, total))
        with projector.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT count(*), count(DISTINCT seq) FROM votes").one()
        assert tuple(rows) == (total, total), f"projection holds {rows}, expected {total} distinct events"
        figures = {
            "events": total,
            "append_events_per_s": total / build.seconds,
            "relay_publish_events_per_s": total / publish_s,
            "replay_seconds": replay_s,
            "replay_events_per_s": total / replay_s,
            "replay_steady_events_per_s": total / steady_s,
            "consumer_rounds": rounds,
        }
        show(
            f"Kafka replay (noida-db, 1 partition): {total:,} events into an empty SQLite projection",
            ["phase", "seconds", "events/s"],
            [
                ["append to the SQLite log (batches of 10,000)", build.seconds, figures["append_events_per_s"]],
                ["outbox relay → Kafka (acks=all, idempotent)", publish_s, figures["relay_publish_events_per_s"]],
                ["replay Kafka → Projector (incl. group join)", replay_s, figures["replay_events_per_s"]],
                ["replay, from the first applied event", steady_s, figures["replay_steady_events_per_s"]],
            ],
        )
        log.engine.dispose()
        projector.engine.dispose()
    console.print(f"target ≥ 50,000 events/s: {'met' if figures['replay_events_per_s'] >= 50_000 else 'NOT met'}")
    console.print(f"saved {save('kafka_replay', figures)}")


if __name__ == "__main__":
    main()
