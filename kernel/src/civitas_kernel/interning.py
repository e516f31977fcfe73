"""Naming voters by number: every address that occurs in a cut gets its index in address order.

Occurrences are spans of one byte buffer (see fields.py). A 64-bit hash of each span, computed by
numpy eight bytes at a time, groups equal addresses by sorting; every occurrence is then compared
byte for byte with its group's first, so a hash collision can never merge two voters (should one
ever happen, that group is split by its bytes). The result does not depend on the hash: ids are
ranks in address order, found by sorting the addresses' big-endian words (UTF-8's byte order is
the order of its code points, which is Python's order of strings).

Work goes in chunks of rows so that numpy's temporaries stay small and are reused: on millions of
rows, fresh full-size temporaries cost more in page faults than the arithmetic does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from civitas_kernel import native

CHUNK = 1 << 16
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_SEED = np.uint64(0x243F6A8885A308D3)
_31, _1, _63 = np.uint64(31), np.uint64(1), np.uint64(63)
_LOW_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)  # keep the first k bytes
_LOW_BYTES[8] = np.uint64(0xFFFFFFFFFFFFFFFF)
_HIGH_BITS = np.uint64(0x8080808080808080)


def _mix(h: np.ndarray) -> np.ndarray:
    h *= _MULTIPLIER
    h ^= h >> _31
    return h


def _rounds(words64: np.ndarray, starts: np.ndarray,
            lengths: np.ndarray) -> Iterator[tuple[np.ndarray | None, np.ndarray]]:
    """For each eight bytes of the spans in turn: (which rows still reach there, or None for all; their eight bytes,
    zero past the end).

    words64 is the buffer as little-endian uint64 words; an unaligned word is put together from the two aligned
    words it straddles, and the second of them is the first of the next round's, so each round gathers once.
    """
    if not len(lengths):
        return
    index = starts >> 3
    shift = ((starts & 7) << 3).astype(np.uint64)
    back = _63 - shift
    low = words64[index]
    last = len(words64) - 1  # a span that has ended reads (and masks away) the last word, not past it
    shortest, longest = int(lengths.min()), int(lengths.max())
    for offset in range(0, longest, 8):
        index += 1
        if offset + 8 > shortest:
            np.minimum(index, last, out=index)
        high = words64[index]
        words = (low >> shift) | ((high << _1) << back)  # shift 0 takes nothing from the next word
        if offset + 8 <= shortest:  # every span reaches past these eight bytes
            yield None, words
        else:
            left = lengths - offset
            words &= _LOW_BYTES[np.clip(left, 0, 8)]
            yield (left > 0) if offset >= shortest else None, words
        low = high


def _hash(words64: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    h = np.empty(len(starts), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for c in range(0, len(starts), CHUNK):
            s, n = starts[c:c + CHUNK], lengths[c:c + CHUNK]
            hc = _mix(n.astype(np.uint64) ^ _SEED)
            for reaching, words in _rounds(words64, s, n):
                if reaching is None:
                    hc = _mix(hc ^ words)
                else:  # a span's hash never depends on its neighbours'
                    hc = np.where(reaching, _mix(hc ^ words), hc)
            h[c:c + CHUNK] = hc
    return h


def holds_byte(words64: np.ndarray, starts: np.ndarray, ends: np.ndarray, byte: int) -> np.ndarray:
    """Per span: does it hold this byte (not zero)? Eight bytes at a time, by the has-a-zero-byte trick."""
    lengths = ends - starts
    found = np.zeros(len(starts), dtype=bool)
    spread = np.uint64(byte * 0x0101010101010101)
    ones = np.uint64(0x0101010101010101)
    with np.errstate(over="ignore"):
        for c in range(0, len(starts), CHUNK):
            for _, words in _rounds(words64, starts[c:c + CHUNK], lengths[c:c + CHUNK]):
                x = words ^ spread  # zero where the byte is; bytes past a span's end are zero, so never match
                found[c:c + CHUNK] |= ((x - ones) & ~x & _HIGH_BITS) != 0
    return found


def _equal_rows(words64: np.ndarray, starts: np.ndarray, lengths: np.ndarray, reps: np.ndarray) -> np.ndarray:
    """Per span: is it byte for byte equal to the span `reps` names for it?"""
    same = lengths == lengths[reps]
    for c in range(0, len(starts), CHUNK):
        n = lengths[c:c + CHUNK]
        chunk = same[c:c + CHUNK]
        mine = _rounds(words64, starts[c:c + CHUNK], n)
        theirs = _rounds(words64, starts[reps[c:c + CHUNK]], n)
        for (_, a), (_, b) in zip(mine, theirs):
            chunk &= a == b
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
    grouped = native.group_spans(data, starts, ends)  # in C, by a hash table, where the kernel was built with it
    if grouped is not None:
        group, first = grouped
    else:
        lengths = ends - starts
        group, first = _groups(_hash(words64, starts, lengths))
        same = _equal_rows(words64, starts, lengths, first[group])
        if not same.all():  # spans whose hashes agree but bytes do not: those groups are split by their bytes
            group, first = _split(data, starts, ends, group, first, ~same)
    first_starts, first_ends = starts[first], ends[first]
    by_address = _address_order(data, words64, first_starts, first_ends)
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


def _address_order(data: bytes, words64: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The order of distinct spans as Python orders their strings: by their big-endian words, then their lengths.

    Sorted by the first eight bytes; only rows that tie there are sorted by the rest. Raises UnicodeDecodeError,
    as decoding would, for a span that is not UTF-8 (spans holding no byte >= 0x80 are ASCII, so are not decoded).
    """
    lengths = ends - starts
    high = np.zeros(len(starts), dtype=bool)
    first = np.empty(len(starts), dtype=np.uint64)
    for c in range(0, len(starts), CHUNK):
        for k, (_, words) in enumerate(_rounds(words64, starts[c:c + CHUNK], lengths[c:c + CHUNK])):
            if k == 0:
                first[c:c + CHUNK] = words.byteswap()
            high[c:c + CHUNK] |= (words & _HIGH_BITS) != 0
    for i in np.flatnonzero(high).tolist():
        data[starts[i]:ends[i]].decode()
    order = np.argsort(first, kind="stable")
    ordered = first[order]
    as_before = np.zeros(len(order), dtype=bool)  # the same first word as the row before it
    np.equal(ordered[1:], ordered[:-1], out=as_before[1:])
    tie = as_before.copy()
    tie[:-1] |= as_before[1:]
    if tie.any():  # sort each run of equal first words by the rest of its words, then by length
        at = np.flatnonzero(tie)
        rows = order[at]
        run = np.cumsum(~as_before[at])
        keys = [words.byteswap() for _, words in _rounds(words64, starts[rows], lengths[rows])][1:]
        within = np.lexsort((lengths[rows], *keys[::-1], run))
        order[at] = rows[within]
    return order
