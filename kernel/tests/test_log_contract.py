"""The log's contract, run against every backend (SQLite and a real PostgreSQL server)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from civitas_kernel.errors import ConcurrencyError, IntegrityError, InvalidAppendError
from civitas_kernel.events import ZERO_HASH, NewEvent, event_hash
from civitas_kernel.signing import SiteKey
from civitas_schema.v1 import vote_pb2

from civitas_kernel.testing.events import votes


def test_append_assigns_gapless_positions_and_chains_hashes(make_log):
    log = make_log()
    first = log.append("vote", votes(3))
    second = log.append("vote", votes(2, start=3))
    assert (first.first_seq, first.last_seq, second.first_seq, second.last_seq) == (1, 3, 4, 5)
    events = list(log.read("vote"))
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == ZERO_HASH
    for before, after in zip(events, events[1:]):
        assert after.prev_hash == before.hash
    assert all(event_hash(e.raw) == e.hash for e in events)
    assert log.head("vote").seq == 5 and log.head("vote").hash == events[-1].hash
    assert events[3].message() == vote_pb2.VoteCast(poll="test-poll", voter="v3@example.org", candidate="c@example.org")


def test_read_ranges_and_streams(make_log):
    log = make_log()
    log.append("vote", votes(10))
    log.append("trust", votes(1))
    assert [e.seq for e in log.read("vote", after=3, until=6)] == [4, 5, 6]
    assert [(site, stream, head.seq) for site, stream, head in log.streams()] == [
        ("alpha.example.org", "trust", 1),
        ("alpha.example.org", "vote", 10),
    ]
    assert log.head("poll").seq == 0


def test_a_batch_that_fails_midway_writes_nothing(make_log):
    log = make_log()
    log.append("vote", votes(2))
    broken = [*votes(3), NewEvent("civitas.v1.VoteCast", "not bytes", "x@example.org")]  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        log.append("vote", broken)
    assert log.head("vote").seq == 2
    assert len(list(log.read("vote"))) == 2


@pytest.mark.parametrize("stream", ["", "Vote", "a b", "x" * 65])
def test_bad_stream_names_are_refused(make_log, stream):
    with pytest.raises(InvalidAppendError, match="not valid"):
        make_log().append(stream, votes(1))


def test_an_empty_batch_is_refused(make_log):
    with pytest.raises(InvalidAppendError, match="at least one event"):
        make_log().append("vote", [])


def test_expected_position_guards_against_concurrent_change(make_log):
    log = make_log()
    log.append("vote", votes(2), expected_seq=0)
    with pytest.raises(ConcurrencyError) as raised:
        log.append("vote", votes(1), expected_seq=1)
    assert (raised.value.expected, raised.value.actual) == (1, 2)
    assert log.head("vote").seq == 2
    assert log.append("vote", votes(1), expected_seq=2).last_seq == 3


def test_a_retried_command_with_its_idempotency_key_appends_nothing_new(make_log):
    log = make_log()
    first = log.append("vote", votes(2), idempotency_key="cmd-1")
    again = log.append("vote", votes(2), idempotency_key="cmd-1")
    assert again.duplicate and (again.first_seq, again.last_seq) == (first.first_seq, first.last_seq)
    assert log.head("vote").seq == 2
    with pytest.raises(InvalidAppendError, match="already used on stream vote"):
        log.append("trust", votes(1), idempotency_key="cmd-1")


def test_concurrent_writers_never_fork_or_skip(make_log, backend):
    first = make_log()
    # Separate log objects over the same database behave like separate processes.
    url = str(first.engine.url.render_as_string(hide_password=False))
    writers = [first] + [make_log(key=first.key, url=url) for _ in range(3)]
    errors: list[BaseException] = []

    def write(log, n):
        try:
            for i in range(25):
                log.append("vote", votes(4, start=1000 * n + 4 * i), idempotency_key=f"w{n}-{i}")
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=write, args=(log, n)) for n, log in enumerate(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    events = list(first.read("vote"))
    assert [e.seq for e in events] == list(range(1, 401))
    assert len({e.event_id for e in events}) == 400
    assert first.verify().events == 400


def test_follow_tails_new_events(make_log):
    log = make_log()
    log.append("vote", votes(2))
    stop = threading.Event()
    seen = []

    def tail():
        for event in log.follow("vote", after=1, poll_interval=0.05, stop=stop):
            seen.append(event.seq)
            if event.seq == 5:
                stop.set()

    t = threading.Thread(target=tail)
    t.start()
    log.append("vote", votes(3, start=2))
    t.join(timeout=10)
    assert not t.is_alive() and seen == [2, 3, 4, 5]


def test_verify_passes_on_an_intact_log(make_log):
    log = make_log()
    for _ in range(3):
        log.append("vote", votes(5))
    report = log.verify()
    assert report.events == 15 and report.streams[0].checkpoints == 3


def _tamper(log, sql: str, **params) -> None:
    with log.engine.begin() as conn:
        conn.execute(text(sql), params)


def test_verify_names_a_tampered_row(make_log):
    log = make_log()
    log.append("vote", votes(5))
    raw = next(e.raw for e in log.read("vote", after=2, until=3))
    _tamper(log, "UPDATE events SET raw = :raw WHERE seq = 3", raw=raw.replace(b"c@example.org", b"d@example.org"))
    with pytest.raises(IntegrityError, match=r"alpha.example.org/vote at position 3: tampered") as raised:
        log.verify()
    assert (raised.value.site, raised.value.stream, raised.value.seq) == ("alpha.example.org", "vote", 3)


def test_verify_catches_a_forgery_rehashed_to_look_consistent(make_log):
    log = make_log()
    log.append("vote", votes(5))
    # The forger rewrites the last event and its hash and the head, but cannot re-sign the checkpoint.
    last = list(log.read("vote"))[-1]
    forged_raw = last.raw.replace(b"c@example.org", b"d@example.org")
    forged_hash = event_hash(forged_raw)
    _tamper(log, "UPDATE events SET raw = :raw, hash = :h WHERE seq = 5", raw=forged_raw, h=forged_hash)
    _tamper(log, "UPDATE heads SET hash = :h", h=forged_hash)
    with pytest.raises(IntegrityError, match="position 5: tampered: the event differs from the one the site signed"):
        log.verify()


def test_verify_names_a_missing_row(make_log):
    log = make_log()
    log.append("vote", votes(5))
    _tamper(log, "DELETE FROM events WHERE seq = 3")
    with pytest.raises(IntegrityError, match=r"position 3: gap: positions 3..3 are missing"):
        log.verify()


def test_verify_names_a_cut_tail(make_log):
    log = make_log()
    log.append("vote", votes(3))
    log.append("vote", votes(2))
    _tamper(log, "DELETE FROM events WHERE seq > 3")
    _tamper(log, "UPDATE heads SET seq = 3, hash = (SELECT hash FROM events WHERE seq = 3)")
    with pytest.raises(IntegrityError, match="truncated: the site signed position 5, which is missing"):
        log.verify()


def test_verify_names_swapped_rows(make_log):
    log = make_log()
    log.append("vote", votes(4))
    rows = {e.seq: e for e in log.read("vote")}
    _tamper(log, "UPDATE events SET raw = :raw, hash = :h WHERE seq = 2", raw=rows[3].raw, h=rows[3].hash)
    _tamper(log, "UPDATE events SET raw = :raw, hash = :h WHERE seq = 3", raw=rows[2].raw, h=rows[2].hash)
    with pytest.raises(IntegrityError, match="position 2: gap: positions 2..2 are missing"):
        log.verify()


def test_verify_names_a_forged_checkpoint(make_log):
    log = make_log()
    log.append("vote", votes(2))
    signed = log.checkpoints("vote")[0]
    signed.signature = bytes(64)
    _tamper(log, "UPDATE checkpoints SET signed = :s", s=signed.SerializeToString())
    with pytest.raises(IntegrityError, match="forged: the checkpoint's signature does not verify"):
        log.verify()


def test_a_log_refuses_another_key_for_its_site(make_log):
    log = make_log()
    log.append("vote", votes(1))
    url = log.engine.url.render_as_string(hide_password=False)
    with pytest.raises(IntegrityError, match="another key"):
        make_log(key=SiteKey.generate(), url=url)


def test_batches_of_several_streams_append_together_or_not_at_all(make_log):
    log = make_log()
    log.append("vote", votes(2))
    results = log.append_batches([("vote", votes(3), 2), ("trust", votes(1), 0)])
    assert [(r.stream, r.first_seq, r.last_seq) for r in results] == [("vote", 3, 5), ("trust", 1, 1)]
    with pytest.raises(ConcurrencyError):
        log.append_batches([("trust", votes(1), 1), ("vote", votes(1), 4)])  # vote is at 5, not 4
    assert (log.head("trust").seq, log.head("vote").seq) == (1, 5)
    with pytest.raises(InvalidAppendError, match="name each stream once"):
        log.append_batches([("vote", votes(1), None), ("vote", votes(1), None)])
    assert log.verify().events == 6
