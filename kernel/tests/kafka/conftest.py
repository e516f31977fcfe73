"""Shared by the Kafka transport tests: a projection that records every application, and polling helpers."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import BigInteger, Column, MetaData, String, Table, select, text

from civitas_kernel.signing import SiteKey
from civitas_kernel.sql import create_engine, open_log
from civitas_kernel.tracking import Projector

metadata = MetaData()
# No primary key on purpose: an event applied twice shows up as two rows.
applied = Table(
    "applied",
    metadata,
    Column("site", String),
    Column("stream", String),
    Column("seq", BigInteger),
    Column("event_id", String),
)


def apply_event(conn, event) -> None:
    conn.execute(applied.insert().values(site=event.site, stream=event.stream, seq=event.seq, event_id=event.event_id))


class Projection:
    def __init__(self, url: str, consumer: str = "test-projection") -> None:
        self.engine = create_engine(url)
        metadata.create_all(self.engine)
        self.projector = Projector(self.engine, consumer, apply_event)

    def rows(self, site: str, stream: str) -> list[int]:
        with self.engine.connect() as conn:
            c = applied.c
            return [r[0] for r in conn.execute(select(c.seq).where(c.site == site, c.stream == stream).order_by(text("rowid")))]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return len(conn.execute(select(applied.c.seq)).all())


@pytest.fixture
def make_projection(tmp_path):
    """make(consumer=...) -> a new SQLite projection."""
    made: list[Projection] = []

    def make(consumer: str = "test-projection") -> Projection:
        made.append(Projection(f"sqlite:///{tmp_path / f'projection{len(made)}.sqlite'}", consumer))
        return made[-1]

    yield make
    for p in made:
        p.engine.dispose()


@pytest.fixture
def projection(make_projection) -> Projection:
    return make_projection()


@pytest.fixture
def sqlite_log(tmp_path):
    log = open_log(f"sqlite:///{tmp_path / 'log.sqlite'}", "alpha.example.org", SiteKey.generate())
    yield log
    log.engine.dispose()


async def _consume_until(consumer, done, timeout: float = 20.0) -> None:
    """Poll until done() holds; fails with what the consumer is waiting for if it takes too long."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; waiting={consumer.waiting}, parked={list(consumer.parked.values())[:5]}")
        await consumer.poll(timeout_ms=200)


@pytest.fixture
def consume_until():
    """await consume_until(consumer, done, timeout=20): poll until done() holds."""
    return _consume_until
