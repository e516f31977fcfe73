"""A segment's frames a block at a time, and the fields of many sealed envelopes at once, by slicing.

What the columnar reader (cut.py) and the bulk verifier (bulk_verify.py) share. A block is a buffer of whole
frames; numpy then walks the fields of all its envelopes together, as the relay's codec slices its layout
(kafka/codec.py): a frame is a SealedEvent encoded deterministically (field 1 the envelope, field 2 its 32-byte
hash), and an envelope is fields 1..9 in field order, each at most once. A frame or envelope in any other shape is
not read here: its row is marked, and the caller reads it the slow way (or lets the plain reader judge it).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

BLOCK = 16 << 20  # bytes read at a time: whole frames, the rest carried into the next block
_LENGTH = struct.Struct(">I")
HASH = 32


class Truncated(Exception):
    """The stream ends inside a frame."""


@dataclass
class Block:
    """Whole frames: `data[:size]` holds them; frame k's message is data[starts[k]:ends[k]]."""

    data: bytes
    size: int
    starts: np.ndarray  # int64
    ends: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)


def _walk(data: bytes, pos: int, limit: int) -> tuple[list[int], int]:
    """Starts of the whole frames from pos (each a 4-byte length, then that many bytes), and where they end."""
    unpack, starts = _LENGTH.unpack_from, []
    app = starts.append
    try:
        while True:  # the tightest loop: past the end, unpack_from raises and the last start is dropped
            app(pos)
            pos += unpack(data, pos)[0] + 4
    except struct.error:
        pass
    starts.pop()
    # The last frames may run past the data; drop them (walking back from the end).
    while starts and pos > limit:
        pos = starts.pop()
    return starts, pos


def frame_blocks(stream: BinaryIO, max_frame: int, block: int = BLOCK) -> Iterator[Block]:
    """Every frame of the stream from where it stands, a block of whole frames at a time.

    Raises Truncated when the stream ends inside a frame, ValueError for a frame longer than max_frame.
    """
    tail = b""
    while True:
        chunk = stream.read(block)
        data = tail + chunk if tail else chunk
        starts, end = _walk(data, 0, len(data))
        while not starts:  # nothing whole yet: a frame longer than a block, or the end of the stream
            if not data:
                return
            claimed = _LENGTH.unpack_from(data, 0)[0] if len(data) >= 4 else 0
            if claimed > max_frame:
                raise ValueError(f"claims {claimed} bytes")
            more = stream.read(max(block, claimed + 4 - len(data)))
            if not more:
                raise Truncated
            data += more
            starts, end = _walk(data, 0, len(data))
        begin = np.array(starts, dtype=np.int64)
        stop = np.empty_like(begin)
        stop[:-1] = begin[1:]
        stop[-1] = end
        longest = int((stop - begin).max()) - 4
        if longest > max_frame:
            raise ValueError(f"claims {longest} bytes")
        yield Block(data, end, begin + 4, stop)
        tail = data[end:]


def _at(u: np.ndarray, index: np.ndarray) -> np.ndarray:
    """u[index] with indexes past the end reading the last byte (rows that far are rejected anyway)."""
    return u[np.minimum(index, u.size - 1)]


def varints(u: np.ndarray, pos: np.ndarray, most: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The varints at pos: (value as uint64, bytes taken, whether each ended within `most` bytes (<= 9))."""
    value = np.zeros(len(pos), dtype=np.uint64)
    taken = np.zeros(len(pos), dtype=np.int64)
    done = np.zeros(len(pos), dtype=bool)
    for k in range(most):
        byte = _at(u, pos + k)
        going = ~done
        value |= np.where(going, (byte & 0x7F).astype(np.uint64) << np.uint64(7 * k), np.uint64(0))
        taken += going
        done |= byte < 0x80
        if done.all():
            break
    return value, taken, done


@dataclass
class Envelopes:
    """Where the fields of many sealed envelopes lie in a buffer: spans (start, end) and values, and `ok` per row.

    A row is ok when its frame and envelope are in the plain shape; the other arrays are meaningful only there.
    Absent fields (proto3 leaves out empty ones) have empty spans.
    """

    ok: np.ndarray
    envelope: tuple[np.ndarray, np.ndarray]
    hash_at: np.ndarray  # where the stated 32-byte hash starts
    site: tuple[np.ndarray, np.ndarray]
    stream: tuple[np.ndarray, np.ndarray]
    seq: np.ndarray  # uint64
    event_id: tuple[np.ndarray, np.ndarray]
    type: tuple[np.ndarray, np.ndarray]
    actor: tuple[np.ndarray, np.ndarray]
    body: tuple[np.ndarray, np.ndarray]
    prev_hash: tuple[np.ndarray, np.ndarray]


_STRING, _VARINT = 2, 0
_FIELDS = (("site", _STRING), ("stream", _STRING), ("seq", _VARINT), ("event_id", _STRING), ("type", _STRING),
           ("actor", _STRING), ("recorded_at_us", _VARINT), ("body", _STRING), ("prev_hash", _STRING))


def envelopes(u: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> Envelopes:
    """The fields of the sealed events framed at u[starts[k]:ends[k]] (u: the block as uint8)."""
    ok = (ends - starts >= 3 + 2 + HASH) & (_at(u, starts) == 0x0A)
    length, taken, done = varints(u, starts + 1, 4)
    env_start = starts + 1 + taken
    env_end = env_start + length.astype(np.int64)
    ok &= done & (env_end + 2 + HASH == ends)
    env_end = np.where(ok, env_end, env_start)
    ok &= (_at(u, env_end) == 0x12) & (_at(u, env_end + 1) == HASH)
    spans: dict = {}
    pos = env_start
    for number, (name, wire) in enumerate(_FIELDS, start=1):
        present = (pos < env_end) & (_at(u, pos) == (number << 3 | wire))
        if wire == _STRING:
            length, taken, done = varints(u, pos + 1, 4)
            start = np.where(present, pos + 1 + taken, pos)
            stop = np.where(present, start + length.astype(np.int64), pos)
            ok &= ~present | (done & (stop <= env_end))
            stop = np.minimum(stop, env_end)
            spans[name] = (start, stop)
        else:
            value, taken, done = varints(u, pos + 1, 9)
            ok &= ~present | done
            stop = np.where(present, np.minimum(pos + 1 + taken, env_end), pos)
            spans[name] = np.where(present, value, np.uint64(0))
        pos = stop
    ok &= pos == env_end
    del spans["recorded_at_us"]
    return Envelopes(ok, (env_start, env_end), env_end + 2, **spans)


def spans_equal(u: np.ndarray, spans: tuple[np.ndarray, np.ndarray], value: bytes) -> np.ndarray:
    """Per row: is the span exactly `value`?"""
    start, stop = spans
    same = stop - start == len(value)
    if value and same.any():
        rows = np.flatnonzero(same)
        window = u[np.minimum(start[rows, None] + np.arange(len(value)), u.size - 1)]
        same[rows] = (window == np.frombuffer(value, dtype=np.uint8)).all(axis=1)
    return same


def gather(u: np.ndarray, at: np.ndarray, width: int) -> np.ndarray:
    """The `width` bytes from each position (all within u), as rows of a matrix."""
    return u[at[:, None] + np.arange(width)]


_HIGH = np.uint64(0x8080808080808080)
_FROM = np.array([~((1 << (8 * k)) - 1) & 0xFFFFFFFFFFFFFFFF for k in range(8)], dtype=np.uint64)  # bytes k..7
_UPTO = np.array([(1 << (8 * (k + 1))) - 1 for k in range(8)], dtype=np.uint64)  # bytes 0..k


class HighBytes:
    """Which spans of a buffer hold a byte >= 0x80: eight bytes a word, the words between a span's ends counted."""

    def __init__(self, data: bytes, size: int) -> None:
        words = -(-size // 8)
        raw = data if len(data) >= 8 * words else data + bytes(8 * words - len(data))
        self.words = np.frombuffer(raw, dtype="<u8", count=words)
        high = (self.words & _HIGH) != 0
        self.count = np.zeros(words + 1, dtype=np.int32)
        np.cumsum(high, out=self.count[1:])

    def ascii(self, spans: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Per span: are all its bytes below 0x80 (an empty span is)?"""
        start, stop = spans
        last = np.maximum(stop - 1, start)
        a, b = start >> 3, last >> 3
        first_word = self.words[np.minimum(a, len(self.words) - 1)] & _FROM[start & 7]
        last_word = self.words[np.minimum(b, len(self.words) - 1)] & _UPTO[last & 7]
        same = a == b
        first_word = np.where(same, first_word & last_word, first_word)
        inner = self.count[np.maximum(b, a + 1)] - self.count[np.minimum(a + 1, b)]
        clean = ((first_word & _HIGH) == 0) & (same | (((last_word & _HIGH) == 0) & (inner == 0)))
        return clean | (stop <= start)
