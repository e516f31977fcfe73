"""A record's cut as compilers read it: its events one by one, or in columns without a Python object per event.

Columns: the distinct event types, each event's type as a number, and every body joined into one buffer with
each event's span in it. A compiler reads the few fields it needs from that buffer in bulk (fields.py) and names
voters by number (interning.py). Read from a segment, the columns come from slicing its frames (frames.py); read
from events one by one (tests, or any iterable of envelopes), from their attributes. Either way, the same columns.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from operator import attrgetter
from typing import BinaryIO

import numpy as np

from civitas_schema.v1 import envelope_pb2, segment_pb2

from civitas_kernel import native
from civitas_kernel.errors import SegmentError
from civitas_kernel.frames import Envelopes, Truncated, envelopes, frame_blocks, spans_equal
from civitas_kernel.log import Progress
from civitas_kernel.native import gather_spans

PADDING = 16  # zero bytes after the last body: bulk readers look a few bytes ahead, eight at a time


def _padded(parts: list[bytes], size: int) -> bytes:
    return b"".join([*parts, bytes(-size % 8 + PADDING)])


@dataclass(frozen=True, eq=False)
class Columns:
    """Events in columns. data[starts[i]:ends[i]] is event i's body; zeros follow the last body (see PADDING)."""

    types: tuple[str, ...]  # the distinct event types
    type_codes: np.ndarray  # int32 per event: its type's index in `types`
    data: bytes
    starts: np.ndarray  # int64 per event
    ends: np.ndarray

    def __len__(self) -> int:
        return len(self.type_codes)

    @property
    def size(self) -> int:
        """Bytes of body data (the padding excluded)."""
        return int(self.ends.max()) if len(self.ends) else 0

    def where(self, *types: str) -> np.ndarray:
        """Positions (int64, in cut order) of the events of these types."""
        codes = [self.types.index(t) for t in types if t in self.types]
        return np.flatnonzero(np.isin(self.type_codes, codes)) if codes else np.zeros(0, dtype=np.int64)

    def is_type(self, rows: np.ndarray, name: str) -> np.ndarray:
        """Per row (a position): is that event of this type?"""
        if name not in self.types:
            return np.zeros(len(rows), dtype=bool)
        return self.type_codes[rows] == self.types.index(name)

    def type_of(self, i: int) -> str:
        return self.types[self.type_codes[i]]

    def body(self, i: int) -> bytes:
        return self.data[self.starts[i]:self.ends[i]]

    @classmethod
    def of(cls, events: Iterable) -> Columns:
        """Columns of events read one by one (anything with .type and .body: envelopes, recorded events)."""
        events = events if isinstance(events, list) else list(events)
        names: dict[str, int] = {}
        codes = np.fromiter((names.setdefault(t, len(names)) for t in map(attrgetter("type"), events)),
                            dtype=np.int32, count=len(events))
        bodies = list(map(attrgetter("body"), events))
        lengths = np.fromiter(map(len, bodies), dtype=np.int64, count=len(bodies))
        ends = np.cumsum(lengths)
        size = int(ends[-1]) if len(ends) else 0
        return cls(tuple(names), codes, _padded(bodies, size), ends - lengths, ends)


class Cut:
    """The events of a cut, read from its segment as a compiler asks: `columns()`, or one envelope at a time.

    Unverified as read: the caller verifies the same bytes (in another process) and trusts the result only then.
    """

    def __init__(self, open_segment: Callable[[], BinaryIO], progress: Progress | None = None,
                 columns: Columns | None = None) -> None:
        self._open, self._progress, self._columns = open_segment, progress, columns  # columns: already read

    def columns(self) -> Columns:
        if self._columns is None:
            with closing(self._open()) as stream:
                self._columns = read_columns(stream, self._progress)
        return self._columns

    def __iter__(self) -> Iterator[envelope_pb2.Envelope]:
        from civitas_kernel.segment import read_envelopes_unchecked  # the plain reader

        with closing(self._open()) as stream:
            for count, envelope in enumerate(read_envelopes_unchecked(stream), start=1):
                if self._progress and count % 10_000 == 0:
                    self._progress(10_000)
                yield envelope


class _Window(io.RawIOBase):
    """`size` bytes of a file from `offset` (a member of an archive, say), read as a file of their own."""

    def __init__(self, path, offset: int, size: int | None) -> None:
        self._file = open(path, "rb")
        self._file.seek(offset)
        self._left = size

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self._left is None:
            return self._file.read(n)
        n = self._left if n is None or n < 0 else min(n, self._left)
        data = self._file.read(n)
        self._left -= len(data)
        return data

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        if self._left is not None:
            view = view[:self._left]
        got = self._file.readinto(view)
        if self._left is not None:
            self._left -= got
        return got

    def close(self) -> None:
        self._file.close()
        super().close()


def open_window(path, offset: int = 0, size: int | None = None) -> BinaryIO:
    """A file, or `size` bytes of it from `offset`, to read a segment from."""
    return _Window(path, offset, size)


def last_of_each(key: np.ndarray, keys: int) -> np.ndarray:
    """Positions (ascending) of the rows that are the last of their key: what stands when later changes win.

    key: int64 in 0..keys-1. When key and position fit one uint64 together, a plain sort of the two
    packed (far faster than a stable argsort) finds the last of each key.
    """
    rows = len(key)
    if rows == 0:
        return np.zeros(0, dtype=np.int64)
    if keys * rows < 1 << 64:  # unsigned: a million voters' pairs by five million rows still fit
        packed = np.sort(key.astype(np.uint64) * np.uint64(rows) + np.arange(rows, dtype=np.uint64))
        sorted_key, order = np.divmod(packed, np.uint64(rows))
    else:
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
    last = np.ones(rows, dtype=bool)
    np.not_equal(sorted_key[1:], sorted_key[:-1], out=last[:-1])
    standing = np.zeros(rows, dtype=bool)  # marked, then read in order: no second sort
    standing[order[last]] = True
    return np.flatnonzero(standing)


def distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, ascending: by sorting (np.unique hashes, which on millions of ids is many times slower)."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def columns_of(events) -> Columns:
    """The columns of a cut, however it is given: a Cut, Columns already, or events one by one."""
    if isinstance(events, Columns):
        return events
    if isinstance(events, Cut):
        return events.columns()
    return Columns.of(events)


def read_columns(stream: BinaryIO, progress: Progress | None = None) -> Columns:
    """A segment's events in columns, by slicing its frames; SegmentError if it cannot be read that far."""
    from civitas_kernel.segment import MAGIC, MAX_FRAME

    if stream.read(len(MAGIC)) != MAGIC:
        raise SegmentError("not a civitas log segment (the file does not start with the segment marker)")
    reader = ColumnReader()
    try:
        blocks = frame_blocks(stream, MAX_FRAME)
        first = next(blocks, None)
        if first is None:
            raise Truncated
        header = _header(first.data[first.starts[0]:first.ends[0]])
        # Frame roles in order: the header, then each range's events and its checkpoint (the trailer is not read).
        roles = [1]
        for r in header.ranges:
            roles += [r.last_seq - r.first_seq + 1, 1]
        wanted = int(sum(roles[1::2]))
        events_at = np.cumsum(roles)  # frame ordinals where each run ends
        seen = 0
        block = first
        while True:
            ordinal = seen + np.arange(len(block), dtype=np.int64)
            run = np.searchsorted(events_at, ordinal, side="right")
            is_event = (run % 2 == 1) & (ordinal < events_at[-1])
            reader.add(block, np.flatnonzero(is_event))
            if progress:
                progress(int(is_event.sum()))
            seen += len(block)
            if seen >= events_at[-1]:
                break
            block = next(blocks, None)
            if block is None:
                raise Truncated
    except (Truncated, ValueError) as e:
        raise SegmentError(f"the segment cannot be read: {e!r}") from None
    columns = reader.columns()
    if len(columns) != wanted:
        raise SegmentError(f"the segment cannot be read: {len(columns)} events where the header names {wanted}")
    return columns


def _header(data: bytes) -> segment_pb2.SegmentHeader:
    try:
        return segment_pb2.SegmentHeader.FromString(data)
    except Exception:
        raise SegmentError("the segment cannot be read: its header does not decode") from None


def _text(name: bytes) -> str:
    try:
        return name.decode()
    except UnicodeDecodeError:
        raise SegmentError("the segment cannot be read: an event's type is not text") from None


def _decoded(frame: bytes) -> envelope_pb2.Envelope:
    try:
        return envelope_pb2.Envelope.FromString(envelope_pb2.SealedEvent.FromString(frame).envelope)
    except Exception:
        raise SegmentError("the segment cannot be read: an event does not decode") from None


class ColumnReader:
    """Types and bodies of event frames, gathered block by block (by read_columns, or by the bulk verifier)."""

    def __init__(self) -> None:
        self.types: dict[str, int] = {}
        self.codes: list[np.ndarray] = []
        self.bodies: list[bytes] = []
        self.lengths: list[np.ndarray] = []
        self._done: Columns | None = None

    def add(self, block, frames: np.ndarray, found: Envelopes | None = None) -> None:
        """The block's event frames at these positions (found: their fields, when already read)."""
        if self._done is not None:
            raise RuntimeError("the columns were already made")
        if not len(frames):
            return
        found = found or envelopes(block, block.starts[frames], block.ends[frames])
        codes = np.empty(len(frames), dtype=np.int32)
        (type_start, type_end), (body_start, body_end) = found.type, found.body
        lengths = body_end - body_start
        slow = ~found.ok
        # The types of a block: few, so each is checked, eight bytes at a time, against one row of it.
        pending = found.ok.copy()
        data = block.data
        while pending.any():
            i = int(np.argmax(pending))
            name = data[type_start[i]:type_end[i]]
            rows = np.flatnonzero(pending)
            match = rows[spans_equal(block, (type_start[rows], type_end[rows]), name)]
            codes[match] = self._code(_text(name))
            pending[match] = False
        if not slow.any():
            bodies = gather_spans(data, body_start, body_end)
        else:
            parts = list(map(data.__getitem__, map(slice, body_start.tolist(), body_end.tolist())))
            for i in np.flatnonzero(slow).tolist():  # frames in another shape: decoded by the generated classes
                envelope = _decoded(data[block.starts[frames[i]]:block.ends[frames[i]]])
                codes[i] = self._code(envelope.type)
                parts[i] = envelope.body
                lengths[i] = len(envelope.body)
            bodies = b"".join(parts)
        self.codes.append(codes)
        self.bodies.append(bodies)
        self.lengths.append(lengths)

    def _code(self, name: str) -> int:
        return self.types.setdefault(name, len(self.types))

    def columns(self) -> Columns:
        """The columns of what was added; once asked for, they are what this reader holds (no more can be added)."""
        if self._done is not None:
            return self._done
        lengths = np.concatenate(self.lengths) if self.lengths else np.zeros(0, dtype=np.int64)
        ends = np.cumsum(lengths)
        size = int(ends[-1]) if len(ends) else 0
        codes = np.concatenate(self.codes) if self.codes else np.zeros(0, dtype=np.int32)
        data = native.join_emptying(self.bodies, -size % 8 + PADDING)  # the blocks' bodies let go as they are joined
        self.codes, self.lengths = [], []
        self._done = Columns(tuple(self.types), codes, data, ends - lengths, ends)
        return self._done
