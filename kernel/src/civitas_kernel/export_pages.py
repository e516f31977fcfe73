"""The frames of a stream's sealed events, straight from the log's rows, as a segment holds them.

Rows are read a page at a time (for an SQL log, straight from its table, one connection, paged by position, so a
long stream never sits in memory whole, and no envelope is decoded), and each page's frames are laid out in one
join: the bytes SealedEvent(envelope=raw, hash=h) serialises to, without a message each. An SQLite log's pages are
read from its file in C (_sqlite_frames.c) where the kernel was built with it: no Python object per row at all.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from civitas_schema.v1 import envelope_pb2

from civitas_kernel import native

try:
    from civitas_kernel import _sqlite_frames
except ImportError:  # built without SQLite's headers: the export reads through Python's sqlite3 module
    _sqlite_frames = None
from civitas_kernel.collector import collector_paused
from civitas_kernel.log import EventLog, Progress

EXPORT_PAGE = 20_000
SQLITE_PAGE = 50_000  # rows a page read in C: one short read transaction each, a few megabytes of frames
_LENGTH = struct.Struct(">I")
_QUERY = ("SELECT seq, hash, raw FROM events WHERE site = ? AND stream = ? AND seq >= ? AND seq <= ? "
          "ORDER BY seq LIMIT ?")


class _SealedHeads(dict):
    """length of an envelope -> the bytes before it in its frame: the frame's length, SealedEvent's tag and length."""

    def __missing__(self, length: int) -> bytes:
        tag_and_length = b"\x0a" + _varint(length)
        head = self[length] = _LENGTH.pack(len(tag_and_length) + length + len(_HASH_TAG) + 32) + tag_and_length
        return head


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


_HASH_TAG = b"\x12\x20"  # SealedEvent field 2, 32 bytes
_HEADS = _SealedHeads()


def sealed_frames(hashes: Sequence[bytes], raws: Sequence[bytes]) -> bytes:
    """The frames of sealed events, exactly as SealedEvent(envelope=raw, hash=h) serialises, without a message each."""
    frames = native.sealed_frames(hashes, raws)  # in C, where built
    return frames if frames is not None else plain_sealed_frames(hashes, raws)


def plain_sealed_frames(hashes: Sequence[bytes], raws: Sequence[bytes]) -> bytes:
    if set(map(len, hashes)) - {32} or not all(raws):  # not the plain layout: let protobuf write it
        return b"".join(_LENGTH.pack(len(d)) + d for d in (
            envelope_pb2.SealedEvent(envelope=r, hash=h).SerializeToString(deterministic=True)
            for h, r in zip(hashes, raws)))
    pieces = [_HASH_TAG] * (4 * len(raws))
    pieces[0::4] = map(_HEADS.__getitem__, map(len, raws))
    pieces[1::4] = raws
    pieces[3::4] = hashes
    return b"".join(pieces)


def _sealed_pages(log: EventLog, site: str, stream: str, first: int, last: int) -> Iterator[tuple[Sequence, Sequence]]:
    """(own hashes, sealed envelopes) of events first..last, a page at a time; straight from the tables for SQL logs."""
    from civitas_kernel.sql.base import SqlEventLog

    if isinstance(log, SqlEventLog):
        yield from _sql_pages(log._reading, log._sql(_QUERY), site, stream, first, last)
        return
    hashes, raws = [], []
    for event in log.read(stream, site=site, after=first - 1, until=last):
        hashes.append(event.hash)
        raws.append(event.raw)
        if len(raws) == EXPORT_PAGE:
            yield hashes, raws
            hashes, raws = [], []
    if raws:
        yield hashes, raws


def _sql_pages(reading, query: str, site: str, stream: str, first: int,
               last: int) -> Iterator[tuple[Sequence, Sequence]]:
    with reading() as cur:  # one connection, paged by position
        while first <= last:
            cur.execute(query, (site, stream, first, last, EXPORT_PAGE))
            rows = cur.fetchall()
            if not rows:
                return
            seqs, hashes, raws = zip(*rows)
            if not isinstance(raws[0], bytes):  # a driver that hands out memoryviews
                hashes, raws = tuple(map(bytes, hashes)), tuple(map(bytes, raws))
            yield hashes, raws
            first = seqs[-1] + 1


def write_range(log: EventLog, site: str, stream: str, first: int, last: int, write: Callable[[bytes], None], *,
                progress: Progress | None = None) -> None:
    """Write the frames of events first..last of site/stream, in order, through `write`."""
    with collector_paused():  # a page is tens of thousands of rows, no cycles: collections would walk them again
        for frames, rows in _frame_pages(log, site, stream, first, last):
            write(frames)
            if progress:
                progress(rows)


def _frame_pages(log: EventLog, site: str, stream: str, first: int, last: int) -> Iterator[tuple[bytes, int]]:
    """(frames, how many) of events first..last, a page at a time: straight from the file in C for an SQLite log
    where the kernel was built with it, else through the log's driver."""
    path = _sqlite_path(log)
    while path is not None and first <= last:
        page = _sqlite_frames.page(path, site, stream, first, last, SQLITE_PAGE)
        if page is None:  # not readable this way: the driver reads the rest, and says what is wrong
            break
        frames, rows, first = page[0], page[1], page[2] + 1
        if not rows:
            return
        yield frames, rows
    if first <= last:
        for hashes, raws in _sealed_pages(log, site, stream, first, last):
            yield sealed_frames(hashes, raws), len(raws)


def _sqlite_path(log: EventLog) -> str | None:
    """The file of an SQLite log, when the C reader can read it; None otherwise."""
    from civitas_kernel.sql.sqlite import SQLiteEventLog

    if _sqlite_frames is None or not isinstance(log, SQLiteEventLog):
        return None
    database = log.engine.url.database
    return database if database and database != ":memory:" and Path(database).is_file() else None
