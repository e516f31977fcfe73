"""An SQLite log's cut read into frames in C (_sqlite_frames.c) gives the bytes Python's sqlite3 path gives: for any
range, any page size, and rows protobuf would lay out otherwise; what it cannot read falls back, to the same bytes."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civitas_kernel import export_pages
from civitas_kernel.sql.engine import open_log
from civitas_kernel.signing import SiteKey
from civitas_kernel.testing.events import votes
from civitas_schema.v1 import envelope_pb2

SITE = "alpha.example.org"


def test_the_kernel_was_built_with_its_sqlite_reader():
    # Without it a million-event cut is read a Python row at a time: make install needs SQLite's headers
    # (apt-get install libsqlite3-dev).
    assert export_pages._sqlite_frames is not None, \
        "civitas_kernel._sqlite_frames was not built: install libsqlite3-dev, then make install"


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    log = open_log(f"sqlite:///{tmp_path_factory.mktemp('log') / 'log.sqlite'}", SITE, SiteKey.generate())
    log.append("vote", votes(40))
    log.append("vote", votes(5, start=41))
    yield log
    log.engine.dispose()


def read(log, first: int, last: int, *, in_c: bool, monkeypatch) -> tuple[bytes, int]:
    with monkeypatch.context() as m:
        if not in_c:
            m.setattr(export_pages, "_sqlite_frames", None)
        pages = list(export_pages._frame_pages(log, SITE, "vote", first, last))
    return b"".join(f for f, _ in pages), sum(n for _, n in pages)


@settings(max_examples=60, deadline=None)
@given(first=st.integers(-2, 48), length=st.integers(-1, 50), page=st.integers(1, 60))
def test_any_range_in_any_pages_reads_the_same_as_through_python(log, first, length, page):
    assert export_pages._sqlite_path(log) is not None  # the C reader is the one asked
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(export_pages, "SQLITE_PAGE", page)
        in_c = read(log, first, first + length, in_c=True, monkeypatch=monkeypatch)
        plain = read(log, first, first + length, in_c=False, monkeypatch=monkeypatch)
    assert in_c == plain
    assert in_c[1] == max(0, min(45, first + length) - max(1, first) + 1)


def test_rows_outside_the_plain_layout_are_laid_out_as_protobuf_does(tmp_path):
    path = tmp_path / "odd.sqlite"
    log = open_log(f"sqlite:///{path}", SITE, SiteKey.generate())
    odd = [(b"", b"\x01" * 200), (b"\x02" * 32, b""), (b"\x03" * 7, b"\x04" * 300), (b"", b"")]
    with sqlite3.connect(path) as db:  # what no append writes, but a damaged or foreign file may hold
        db.executemany("INSERT INTO events (site, stream, seq, hash, raw) VALUES (?, 'odd', ?, ?, ?)",
                       [(SITE, seq, h, r) for seq, (h, r) in enumerate(odd, 1)])
    frames, rows = next(export_pages._frame_pages(log, SITE, "odd", 1, 4))
    expected = b"".join(len(m).to_bytes(4, "big") + m for m in (
        envelope_pb2.SealedEvent(envelope=r, hash=h).SerializeToString(deterministic=True) for h, r in odd))
    assert (frames, rows) == (expected, 4)
    log.engine.dispose()


def test_a_page_it_cannot_read_is_left_to_the_driver_which_says_what_is_wrong(tmp_path, monkeypatch):
    path = tmp_path / "text.sqlite"
    log = open_log(f"sqlite:///{path}", SITE, SiteKey.generate())
    log.append("vote", votes(6))
    with sqlite3.connect(path) as db:  # a text where a blob belongs, at the fourth event
        db.execute("UPDATE events SET raw = CAST(raw AS TEXT) WHERE stream = 'vote' AND seq = 4")
    monkeypatch.setattr(export_pages, "SQLITE_PAGE", 2)
    pages = export_pages._frame_pages(log, SITE, "vote", 1, 6)
    assert next(pages) == read(log, 1, 2, in_c=False, monkeypatch=monkeypatch)  # read in C up to that page
    assert export_pages._sqlite_frames.page(str(path), SITE, "vote", 3, 6, 2) is None
    with pytest.raises(sqlite3.OperationalError, match="UTF-8"):  # the driver's own word for it, nothing written
        next(pages)
    log.engine.dispose()
