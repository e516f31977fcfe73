"""A consumer keeps its position with the rows it derives: redelivery changes nothing, gaps wait."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select

from civitas_kernel.sql import create_engine
from civitas_kernel.testing.events import votes
from civitas_kernel.tracking import Projector

metadata = MetaData()
tally = Table("tally", metadata, Column("voter", String, primary_key=True), Column("times", Integer))


def apply_vote(conn, event):
    voter = event.message().voter
    row = conn.execute(select(tally.c.times).where(tally.c.voter == voter)).first()
    if row:
        conn.execute(tally.update().where(tally.c.voter == voter).values(times=row[0] + 1))
    else:
        conn.execute(tally.insert().values(voter=voter, times=1))


@pytest.fixture
def projector(backend, make_database_url):
    engine = create_engine(make_database_url(backend))
    metadata.create_all(engine)
    yield Projector(engine, "tally", apply_vote)
    engine.dispose()


def tallies(projector) -> dict[str, int]:
    with projector.engine.connect() as conn:
        return dict(conn.execute(select(tally.c.voter, tally.c.times)).all())


def test_each_event_is_applied_once_even_when_redelivered(make_log, projector):
    log = make_log()
    log.append("vote", votes(5))
    assert projector.catch_up(log, [(log.site, "vote")]) == 5
    events = list(log.read("vote"))
    assert projector.handle(events) == 0  # a whole redelivery
    assert projector.handle(events[2:] + events[:1]) == 0
    assert tallies(projector) == {f"v{i}@example.org": 1 for i in range(5)}
    assert projector.position(log.site, "vote") == 5


def test_an_event_after_a_gap_waits_for_the_missing_ones(make_log, projector):
    log = make_log()
    log.append("vote", votes(4))
    events = list(log.read("vote"))
    assert projector.handle([events[0], events[2], events[3]]) == 1
    assert projector.position(log.site, "vote") == 1
    assert projector.handle(events[1:]) == 3
    assert sorted(tallies(projector)) == [f"v{i}@example.org" for i in range(4)]


def test_a_failure_while_applying_rolls_back_rows_and_position(make_log, projector):
    log = make_log()
    log.append("vote", votes(3))
    events = list(log.read("vote"))
    calls = []

    def fail_on_third(conn, event):
        calls.append(event.seq)
        if event.seq == 3:
            raise RuntimeError("disk full")
        apply_vote(conn, event)

    failing = Projector(projector.engine, "tally", fail_on_third)
    with pytest.raises(RuntimeError):
        failing.handle(events)
    assert tallies(projector) == {} and projector.position(log.site, "vote") == 0
    assert projector.handle(events) == 3
