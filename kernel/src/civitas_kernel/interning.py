"""Naming voters by number: every address that occurs in a cut gets its index in address order.

Occurrences are spans of one byte buffer (see fields.py). A 64-bit hash of each span, computed by
numpy eight bytes at a time, groups equal addresses by sorting; every occurrence is then compared
byte for byte with its group's first, so a hash collision can never merge two voters (should one
ever happen, the occurrences are interned exactly through a dict instead). The result does not
depend on the hash: ids are ranks in address order.

Work goes in chunks of rows so that numpy's temporaries stay small and are reused: on millions of
rows, fresh full-size temporaries cost more in page faults than the arithmetic does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHUNK = 1 << 18
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_SEED = np.uint64(0x243F6A8885A308D3)
_31, _1, _63 = np.uint64(31), np.uint64(1), np.uint64(63)
_LOW_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(8)], dtype=np.uint64)  # keep the first k bytes


def _mix(h: np.ndarray) -> np.ndarray:
    h *= _MULTIPLIER
    h ^= h >> _31
    return h


def _words(words64: np.ndarray, starts: np.ndarray, lengths: np.ndarray, offset: int) -> tuple[slice | np.ndarray, np.ndarray]:
    """The rows still longer than `offset`, and their eight bytes from there (zero past their end).

    words64 is the buffer as little-endian uint64 words; an unaligned word is put together from the
    two aligned words it straddles, which numpy gathers far faster than eight single bytes.
    """
    rows: slice | np.ndarray = slice(None) if lengths.min() > offset else np.flatnonzero(lengths > offset)
    position = starts[rows] + offset
    index = position >> 3
    shift = ((position & 7) << 3).astype(np.uint64)
    words = words64[index] >> shift
    words |= (words64[index + 1] << _1) << (_63 - shift)  # shift 0 takes nothing from the next word
    left = lengths[rows] - offset
    short = left < 8
    if short.any():
        words[short] &= _LOW_BYTES[left[short]]
    return rows, words


def _hash(words64: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    h = np.empty(len(starts), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for c in range(0, len(starts), CHUNK):
            s, n = starts[c:c + CHUNK], lengths[c:c + CHUNK]
            hc = _mix(n.astype(np.uint64) ^ _SEED)
            for offset in range(0, int(n.max()), 8):
                rows, words = _words(words64, s, n, offset)
                hc[rows] = _mix(hc[rows] ^ words)
            h[c:c + CHUNK] = hc
    return h


def _equal_rows(words64: np.ndarray, starts: np.ndarray, lengths: np.ndarray, reps: np.ndarray) -> np.ndarray:
    """Per span: is it byte for byte equal to the span `reps` names for it?"""
    same = lengths == lengths[reps]
    for c in range(0, len(starts), CHUNK):
        s, r, n = starts[c:c + CHUNK], starts[reps[c:c + CHUNK]], lengths[c:c + CHUNK]
        chunk = same[c:c + CHUNK]
        for offset in range(0, int(n.max()), 8):
            rows, words = _words(words64, s, n, offset)
            _, theirs = _words(words64, r, n, offset)
            if isinstance(rows, slice):
                chunk &= words == theirs
            else:
                chunk[rows] &= words == theirs
    return same


@dataclass(frozen=True, eq=False)
class Interned:
    """Every occurrence's id (int32: its address's rank in address order), and one span of each address, in order."""

    ids: np.ndarray
    data: bytes
    starts: np.ndarray  # int64, one per address, in address order
    ends: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)

    def texts(self) -> list[str]:
        """The addresses as strings (one Python object each)."""
        data = self.data
        return [data[s:e].decode() for s, e in zip(self.starts.tolist(), self.ends.tolist())]


def intern(data: bytes, words64: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """ids (int32, one per span: its address's rank in address order) and the addresses in that order.

    data: the buffer; words64: the same bytes as little-endian uint64 words, with at least one word
    of zeros after the last span.
    """
    interned = intern_spans(data, words64, starts, ends)
    return interned.ids, interned.texts()


def intern_spans(data: bytes, words64: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> Interned:
    """As intern, with the addresses left as spans of data (checked to be UTF-8, as decoding them would)."""
    if len(starts) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Interned(np.zeros(0, dtype=np.int32), data, empty, empty)
    lengths = ends - starts
    group, first = _groups(_hash(words64, starts, lengths))
    same = _equal_rows(words64, starts, lengths, first[group])
    if not same.all():  # spans whose hashes agree but bytes do not: those groups are split by their bytes
        group, first = _split(data, starts, ends, group, first, ~same)
    first_starts, first_ends = starts[first], ends[first]
    by_address = _address_order(data, first_starts, first_ends)
    rank = np.empty(len(first), dtype=np.int32)
    rank[by_address] = np.arange(len(first), dtype=np.int32)
    return Interned(rank[group], data, first_starts[by_address], first_ends[by_address])


def _groups(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows grouped by hash: each row's group, and one row of each group.

    The hash's high bits and the row's position are packed into one word and sorted (much faster than an argsort
    of the hashes); rows of different spans that share those bits are told apart by _split, after.
    """
    rows = len(h)
    bits = np.uint64(max(1, (rows - 1).bit_length()))
    packed = ((h >> bits) << bits) | np.arange(rows, dtype=np.uint64)
    packed.sort()
    order = (packed & ((np.uint64(1) << bits) - np.uint64(1))).astype(np.int64)
    top = packed >> bits
    del packed
    new_group = np.empty(rows, dtype=bool)
    new_group[0] = True
    np.not_equal(top[1:], top[:-1], out=new_group[1:])
    del top
    group = np.empty(rows, dtype=np.int64)
    group[order] = np.cumsum(new_group) - 1
    return group, order[new_group]


def _split(data: bytes, starts, ends, group: np.ndarray, first: np.ndarray, odd: np.ndarray):
    """Regroup, by their bytes, the rows of every group holding a row unlike its first (a rare hash collision)."""
    bad = np.unique(group[odd])
    rows = np.flatnonzero(np.isin(group, bad))
    group, first = group.copy(), list(first.tolist())
    named: dict[tuple[int, bytes], int] = {}  # (old group, bytes) -> group
    for row in rows.tolist():
        text = data[starts[row]:ends[row]]
        old = int(group[row])
        key = (old, text)
        if key not in named:
            if data[starts[first[old]]:ends[first[old]]] == text:
                named[key] = old
            else:
                named[key] = len(first)
                first.append(row)
        group[row] = named[key]
    return group, np.array(first, dtype=np.int64)


WIDEST_SORTED = 64  # addresses up to this many bytes are put in order by numpy; longer ones (rare) by Python


def _address_order(data: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The order of distinct spans as Python orders their strings (UTF-8's byte order is code point order).

    Raises UnicodeDecodeError, as decoding would, for a span that is not UTF-8.
    """
    u = np.frombuffer(data, dtype=np.uint8)
    lengths = ends - starts
    width = int(lengths.max())
    if width <= WIDEST_SORTED:
        fixed = np.zeros((len(starts), width), dtype=np.uint8)
        unusual = np.zeros(len(starts), dtype=bool)  # a byte >= 0x80 (to check as UTF-8) or a zero byte
        columns = np.arange(width)
        for c in range(0, len(starts), CHUNK):
            s, n = starts[c:c + CHUNK], lengths[c:c + CHUNK]
            window = u[np.minimum(s[:, None] + columns, u.size - 1)]
            window[columns >= n[:, None]] = 1  # (only to tell a zero inside from the padding)
            unusual[c:c + CHUNK] = ((window >= 0x80) | (window == 0)).any(axis=1)
            window[columns >= n[:, None]] = 0
            fixed[c:c + CHUNK] = window
        odd = np.flatnonzero(unusual)
        for i in odd.tolist():
            data[starts[i]:ends[i]].decode()
        # numpy's fixed-width strings ignore trailing zeros: spans holding a zero byte go the plain way below.
        if not any(b"\0" in data[starts[i]:ends[i]] for i in odd.tolist()):
            return np.argsort(fixed.view(f"S{width}").reshape(-1), kind="stable")
    texts = [data[s:e] for s, e in zip(starts.tolist(), ends.tolist())]
    for t in texts:
        t.decode()
    return np.array(sorted(range(len(texts)), key=texts.__getitem__), dtype=np.int64)
