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

from civitas_kernel.native import envelope_fields, not_ascii, read_after, spans_are, walk_frames

BLOCK = 16 << 20  # bytes read at a time: whole frames, the rest carried into the next block
PAD = 24  # bytes a block's data holds past its frames, so that bulk reads a few bytes ahead stay inside it
HASH = 32
_LENGTH = struct.Struct(">I")


class Truncated(Exception):
    """The stream ends inside a frame."""


@dataclass
class Block:
    """Whole frames: `data[:size]` holds them; frame k's message is data[starts[k]:ends[k]].

    At least PAD bytes follow `size` in data (the start of the next frame, or zeros).
    """

    data: bytes
    size: int
    starts: np.ndarray  # int64
    ends: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)

    def words(self) -> np.ndarray:
        """The data as little-endian uint64 words (the last partial word left out)."""
        return np.frombuffer(self.data, dtype="<u8", count=len(self.data) // 8)


def frame_blocks(stream: BinaryIO, max_frame: int, block: int = BLOCK) -> Iterator[Block]:
    """Every frame of the stream from where it stands, a block of whole frames at a time.

    Raises Truncated when the stream ends inside a frame, ValueError for a frame longer than max_frame.
    """
    tail = b""
    while True:
        data = read_after(tail, stream, block, PAD + 8)  # the carried tail, a block read after it, zeros
        whole = len(data) - PAD - 8
        starts, end = walk_frames(data, 0, whole)
        while not len(starts):  # nothing whole yet: a frame longer than a block, or the end of the stream
            if not whole:
                return
            claimed = _LENGTH.unpack_from(data, 0)[0] if whole >= 4 else 0
            if claimed > max_frame:
                raise ValueError(f"claims {claimed} bytes")
            longer = read_after(data[:whole], stream, max(block, claimed + 4 - whole), PAD + 8)
            if len(longer) == len(data):
                raise Truncated
            data, whole = longer, len(longer) - PAD - 8
            starts, end = walk_frames(data, 0, whole)
        begin = starts
        stop = np.empty_like(begin)
        stop[:-1] = begin[1:]
        stop[-1] = end
        longest = int((stop - begin).max()) - 4
        if longest > max_frame:
            raise ValueError(f"claims {longest} bytes")
        tail = data[end:whole]
        yield Block(data, end, begin + 4, stop)


_HIGH = np.uint64(0x8080808080808080)
_SEVEN = np.uint64(0x7F7F7F7F7F7F7F7F)
_BYTE = np.uint64(0xFF)
_U = [np.uint64(k) for k in range(65)]


def word_at(words: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """The eight bytes at each position, as a little-endian uint64 (put together from the two words they straddle)."""
    index = pos >> 3
    shift = ((pos & 7) << 3).astype(np.uint64)
    return (words[index] >> shift) | ((words[index + 1] << _U[1]) << (_U[63] - shift))


def varint_in(w: np.ndarray, most: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The varints starting at the low byte of each word: (value, bytes taken, whether each ends within `most` <= 8)."""
    stop = ~w & _HIGH  # a byte without its high bit ends the varint
    low = stop & (~stop + _U[1])  # the first such byte's high bit
    taken = (np.bitwise_count(low - _U[1]).astype(np.int64) + 1) >> 3
    done = (stop != 0) & (taken <= most)
    x = w & ((low << _U[1]) - _U[1]) & _SEVEN
    value = x & np.uint64(0x7F)
    for k in range(1, most):
        value |= (x >> _U[k]) & np.uint64(0x7F << (7 * k))
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


def envelopes(block: Block, starts: np.ndarray, ends: np.ndarray) -> Envelopes:
    """The fields of the sealed events framed at data[starts[k]:ends[k]] of the block (in C where it is built)."""
    found = envelope_fields(block.data, starts, ends)
    if found is None:
        return plain_envelopes(block, starts, ends)
    spans = iter(found[4:])
    fields = {name: (next(spans).view(np.uint64) if wire == _VARINT else (next(spans), next(spans)))
              for name, wire in _FIELDS if name != "recorded_at_us"}
    return Envelopes(found[0].astype(bool), (found[1], found[2]), found[3], **fields)


def plain_envelopes(block: Block, starts: np.ndarray, ends: np.ndarray) -> Envelopes:
    """envelopes, by numpy over the whole block at once."""
    words = block.words()
    w = word_at(words, starts)
    length, taken, done = varint_in(w >> _U[8], 4)
    ok = ((w & _BYTE) == 0x0A) & done & (ends - starts >= 3 + 2 + HASH)
    env_start = starts + 1 + taken
    env_end = np.where(ok, env_start + length.astype(np.int64), env_start)
    ok &= env_end + 2 + HASH == ends
    env_end = np.where(ok, env_end, env_start)
    ok &= (word_at(words, env_end) & np.uint64(0xFFFF)) == np.uint64(0x12 | HASH << 8)
    spans: dict = {}
    pos = env_start
    for number, (name, wire) in enumerate(_FIELDS, start=1):
        w = word_at(words, pos)
        present = (pos < env_end) & ((w & _BYTE) == np.uint64(number << 3 | wire))
        if wire == _STRING:
            length, taken, done = varint_in(w >> _U[8], 4)
            start = np.where(present, pos + 1 + taken, pos)
            stop = np.where(present, start + length.astype(np.int64), pos)
            ok &= ~present | (done & (stop <= env_end))
            stop = np.minimum(stop, env_end)
            spans[name] = (start, stop)
        else:
            value, taken, done = varint_in(word_at(words, pos + 1), 8)
            ok &= ~present | done
            stop = np.where(present, np.minimum(pos + 1 + taken, env_end), pos)
            spans[name] = np.where(present, value, np.uint64(0))
        pos = stop
    ok &= pos == env_end
    del spans["recorded_at_us"]
    return Envelopes(ok, (env_start, env_end), env_end + 2, **spans)


def spans_equal(block: Block, spans: tuple[np.ndarray, np.ndarray], value: bytes) -> np.ndarray:
    """Per row: is the span exactly `value`? (In C where built, else compared eight bytes at a time.)"""
    start, stop = spans
    same = spans_are(block.data, start, stop, value)
    return same if same is not None else plain_spans_equal(block, spans, value)


def plain_spans_equal(block: Block, spans: tuple[np.ndarray, np.ndarray], value: bytes) -> np.ndarray:
    start, stop = spans
    same = stop - start == len(value)
    if value and same.any():
        rows = np.flatnonzero(same)
        at, words = start[rows], block.words()
        padded = value + bytes(-len(value) % 8)
        for k in range(0, len(value), 8):
            want = np.frombuffer(padded[k:k + 8], dtype="<u8")[0]
            mask = np.uint64((1 << (8 * min(8, len(value) - k))) - 1)
            same[rows] &= (word_at(words, at + k) & mask) == want
    return same


def hash_words(block: Block, at: np.ndarray) -> np.ndarray:
    """The 32 bytes from each position, as rows of four little-endian uint64 words."""
    words = block.words()
    out = np.empty((len(at), HASH // 8), dtype=np.uint64)
    for k in range(HASH // 8):
        out[:, k] = word_at(words, at + 8 * k)
    return out


_FROM = np.array([~((1 << (8 * k)) - 1) & 0xFFFFFFFFFFFFFFFF for k in range(8)], dtype=np.uint64)  # bytes k..7
_UPTO = np.array([(1 << (8 * (k + 1))) - 1 for k in range(8)], dtype=np.uint64)  # bytes 0..k


def ascii_spans(data: bytes, size: int, spans: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Per span of data[:size]: are all its bytes below 0x80?"""
    high = not_ascii(data, *spans)
    return ~high if high is not None else HighBytes(data, size).ascii(spans)


class HighBytes:
    """Which spans of a buffer hold a byte >= 0x80: eight bytes a word, the words between a span's ends counted."""

    def __init__(self, data: bytes, size: int) -> None:
        words = -(-size // 8) + 1  # a word past the end, so that a span ending (or empty) there is looked up too
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
