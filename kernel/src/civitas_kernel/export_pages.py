"""The frames of a stream's sealed events, straight from the log's rows, as a segment holds them.

Rows are read a page at a time (for an SQL log, straight from its table, one connection, paged by position, so a
long stream never sits in memory whole), and each page's frames are laid out in one join: the bytes
SealedEvent(envelope=raw, hash=h) serialises to, without a message each. A long range is read by two processes:
this one reads its first half while a forked worker, on a connection of its own, writes the second half's frames
to a scratch file, which is then appended in order.
"""

from __future__ import annotations

import multiprocessing
import os
import struct
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

from civitas_schema.v1 import envelope_pb2

from civitas_kernel.log import EventLog, Progress

EXPORT_PAGE = 20_000
HALVED_FROM = 200_000  # events in a range from which a worker reads half of it
_LENGTH = struct.Struct(">I")
_QUERY = ("SELECT seq, hash, raw FROM events WHERE site = ? AND stream = ? AND seq >= ? AND seq <= ? "
          "ORDER BY seq LIMIT ?")
COPY_BLOCK = 4 << 20


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


def _sql_pages(reading, query: str, site: str, stream: str, first: int, last: int) -> Iterator[tuple[Sequence, Sequence]]:
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
                scratch: str | None = None, progress: Progress | None = None) -> None:
    """Write the frames of events first..last of site/stream, in order, through `write`."""
    from civitas_kernel.sql.base import SqlEventLog

    if not isinstance(log, SqlEventLog) or last - first + 1 < HALVED_FROM or _in_memory(log):
        _write_pages(_sealed_pages(log, site, stream, first, last), write, progress)
        return
    middle = first + (last - first + 1) // 2
    url = log.engine.url.render_as_string(hide_password=False)
    fd, part = tempfile.mkstemp(prefix="segment-", suffix=".part", dir=scratch)
    os.close(fd)
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
            later = pool.submit(_write_part, url, log._sql(_QUERY), site, stream, middle, last, part)
            _write_pages(_sql_pages(log._reading, log._sql(_QUERY), site, stream, first, middle - 1), write, progress)
            count = later.result()
        with open(part, "rb") as f:
            while block := f.read(COPY_BLOCK):
                write(block)
        if progress:
            progress(count)
    finally:
        os.unlink(part)


def _in_memory(log) -> bool:
    url = log.engine.url
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _write_pages(pages, write: Callable[[bytes], None], progress: Progress | None) -> None:
    for hashes, raws in pages:
        write(sealed_frames(hashes, raws))
        if progress:
            progress(len(raws))


def _write_part(url: str, query: str, site: str, stream: str, first: int, last: int, path: str) -> int:
    """In a worker: the frames of events first..last to a file, on a connection of its own; how many were written."""
    from civitas_kernel.sql.engine import create_engine

    engine = create_engine(url)
    count = 0
    try:
        with open(path, "wb") as out:
            for hashes, raws in _sql_pages(_reading_from(engine), query, site, stream, first, last):
                out.write(sealed_frames(hashes, raws))
                count += len(raws)
        if count != last - first + 1:
            raise RuntimeError(f"{site}/{stream}: read {count} events of {first}..{last}")
        return count
    finally:
        engine.dispose()


def _reading_from(engine):
    @contextmanager
    def reading():
        connection = engine.raw_connection()
        try:
            yield connection.cursor()
        finally:
            connection.rollback()
            connection.close()

    return reading
