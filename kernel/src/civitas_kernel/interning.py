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


def _all_equal(words64: np.ndarray, starts: np.ndarray, lengths: np.ndarray, reps: np.ndarray) -> bool:
    """Is every span byte for byte equal to the span `reps` names for it?"""
    if not np.array_equal(lengths, lengths[reps]):
        return False
    for c in range(0, len(starts), CHUNK):
        s, r, n = starts[c:c + CHUNK], starts[reps[c:c + CHUNK]], lengths[c:c + CHUNK]
        for offset in range(0, int(n.max()), 8):
            if not np.array_equal(_words(words64, s, n, offset)[1], _words(words64, r, n, offset)[1]):
                return False
    return True


def intern(data: bytes, words64: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """ids (int32, one per span: its address's rank in address order) and the addresses in that order.

    data: the buffer; words64: the same bytes as little-endian uint64 words, with at least one word
    of zeros after the last span.
    """
    if len(starts) == 0:
        return np.zeros(0, dtype=np.int32), []
    lengths = ends - starts
    h = _hash(words64, starts, lengths)
    order = np.argsort(h)
    sorted_h = h[order]
    new_group = np.empty(len(h), dtype=bool)
    new_group[0] = True
    np.not_equal(sorted_h[1:], sorted_h[:-1], out=new_group[1:])
    del sorted_h
    group = np.empty(len(h), dtype=np.int64)
    group[order] = np.cumsum(new_group) - 1
    first = order[new_group]  # one occurrence of each group
    del order

    if not _all_equal(words64, starts, lengths, first[group]):
        return _intern_exactly(data, starts, ends)

    texts = [data[s:e].decode() for s, e in zip(starts[first].tolist(), ends[first].tolist())]
    by_address = sorted(range(len(texts)), key=texts.__getitem__)
    rank = np.empty(len(texts), dtype=np.int32)
    rank[np.asarray(by_address, dtype=np.int64)] = np.arange(len(texts), dtype=np.int32)
    return rank[group], [texts[i] for i in by_address]


def _intern_exactly(data: bytes, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, list[str]]:
    texts = [data[s:e].decode() for s, e in zip(starts.tolist(), ends.tolist())]
    addresses = sorted(set(texts))
    rank = {a: i for i, a in enumerate(addresses)}
    return np.fromiter(map(rank.__getitem__, texts), dtype=np.int32, count=len(texts)), addresses
