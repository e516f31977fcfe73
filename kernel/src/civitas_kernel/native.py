"""The per-event loops of reading a cut: in C when the kernel was built with its extension (kernel/csrc/native/),
otherwise in plain Python with the same results. `BUILT` says which; the kernel's tests hold the two to the same
answers."""

from __future__ import annotations

import hashlib
import io
import os
import struct

import numpy as np

try:
    from civitas_kernel import _native
except ImportError:  # installed where no compiler or OpenSSL headers were found: plain Python, slower
    _native = None

BUILT = _native is not None
# Hashing threads: both cores of a small machine by default (CIVITAS_HASH_THREADS=1 keeps it to one).
THREADS = max(1, int(os.environ.get("CIVITAS_HASH_THREADS") or min(os.cpu_count() or 1, 4)))
_LENGTH = struct.Struct(">I")


def string_fields(data: bytes, starts: np.ndarray, ends: np.ndarray, which: np.ndarray,
                  k: int) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray] | None:
    """Spans of string fields 1..k of the bodies at `which`, and whether each body is in the plain shape (fields.py),
    in C; None where the extension is not built."""
    if _native is None:
        return None
    found = _native.string_fields(data, np.ascontiguousarray(starts, dtype=np.int64),
                                  np.ascontiguousarray(ends, dtype=np.int64),
                                  np.ascontiguousarray(which, dtype=np.int64), k)
    rows = len(which)
    columns = np.frombuffer(found, dtype=np.int64, count=2 * k * rows).reshape(2 * k, rows)
    plain = np.frombuffer(found, dtype=np.bool_, offset=2 * k * rows * 8)
    return [(columns[2 * f], columns[2 * f + 1]) for f in range(k)], plain


def cascade(threshold: int, primary: np.ndarray, member: np.ndarray, indptr: np.ndarray,
            targets: np.ndarray) -> np.ndarray | None:
    """The voters a threshold cascade over out-edges (CSR by source) reaches, as a bool array (the registry's
    trust.py), in C; None where the extension is not built."""
    if _native is None:
        return None
    joined = _native.cascade(int(threshold), np.ascontiguousarray(primary, dtype=np.int32),
                             np.ascontiguousarray(member, dtype=np.bool_), np.ascontiguousarray(indptr, dtype=np.int64),
                             np.ascontiguousarray(targets, dtype=np.int32))
    return np.frombuffer(joined, dtype=np.bool_)


def tsv_rows(header: bytes, columns: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> bytes | None:
    """tsv.rows' bytes from (data, starts, ends) columns, in C; None where the extension is not built."""
    if _native is None:
        return None
    return _native.tsv_rows(header, [(np.ascontiguousarray(d), np.ascontiguousarray(a, dtype=np.int64),
                                      np.ascontiguousarray(b, dtype=np.int64)) for d, a, b in columns])


def tsv_columns(data: bytes, start: int, width: int,
                wanted: tuple[int, ...]) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """Spans (starts, ends) of columns `wanted` of the lines of data[start:], each line holding `width` fields;
    None when a line does not (or the text ends inside one). In C where built, else numpy over every break."""
    if _native is not None:
        found = _native.tsv_columns(data, start, width, bytes(wanted))
        if found is None:
            return None
        columns = np.frombuffer(found, dtype=np.int64).reshape(2 * len(wanted), -1) if wanted else None
        return [(columns[2 * c], columns[2 * c + 1]) for c in range(len(wanted))]
    u = np.frombuffer(data, dtype=np.uint8)
    breaks = start + np.flatnonzero((u[start:] == 9) | (u[start:] == 10))
    if breaks.size % width or (breaks.size and not (
            (u[breaks].reshape(-1, width)[:, :-1] == 9).all() and (u[breaks[width - 1::width]] == 10).all()
            and breaks[-1] == len(data) - 1)) or (not breaks.size and start != len(data)):
        return None
    ends = breaks.reshape(-1, width)
    starts = np.empty_like(ends)
    starts[:, 1:] = ends[:, :-1] + 1
    starts[1:, 0] = ends[:-1, -1] + 1
    starts[:1, 0] = start
    return [(starts[:, c], ends[:, c]) for c in wanted]


def rows_in_sorted(data: bytes, starts: np.ndarray, ends: np.ndarray, table: bytes, table_starts: np.ndarray,
                   table_ends: np.ndarray) -> np.ndarray:
    """Per span of data, its row among the table's spans (-1 when absent); both strictly ascending byte by byte,
    else a ValueError. In C by one merge where built; else by a dictionary of the table."""
    if _native is not None:
        c = [np.ascontiguousarray(x, dtype=np.int64) for x in (starts, ends, table_starts, table_ends)]
        return np.frombuffer(_native.rows_in_sorted(data, c[0], c[1], table, c[2], c[3]), dtype=np.int64)
    sought = [data[s:e] for s, e in zip(starts.tolist(), ends.tolist())]
    rows = [table[s:e] for s, e in zip(table_starts.tolist(), table_ends.tolist())]
    for name, spans in (("the spans sought", sought), ("the table", rows)):
        if any(a >= b for a, b in zip(spans, spans[1:])):
            raise ValueError(f"{name} are not in strictly ascending order")
    at = {span: i for i, span in enumerate(rows)}
    return np.array([at.get(span, -1) for span in sought], dtype=np.int64)


def read_after(tail: bytes, stream, n: int, pad: int) -> bytes:
    """tail, then up to n bytes of stream (fewer only at its end), then pad zero bytes, as one bytes object: read
    straight into it in C where the stream can read into a buffer, so no block is copied to join it to a tail."""
    if _native is not None and type(stream).readinto is not io.RawIOBase.readinto:
        return _native.read_after(tail, stream.readinto, n, pad)
    return b"".join((tail, stream.read(n), bytes(pad)))


def walk_frames(data: bytes, pos: int, limit: int) -> tuple[np.ndarray, int]:
    """Starts (int64) of the whole frames from pos that end by `limit` (each a 4-byte big-endian length, then that
    many bytes), and where the last of them ends."""
    if _native is not None:
        starts, end = _native.walk_frames(data, pos, limit)
        return np.frombuffer(starts, dtype=np.int64), end
    starts, end = plain_walk_frames(data, pos, limit)
    return np.array(starts, dtype=np.int64), end


def plain_walk_frames(data: bytes, pos: int, limit: int) -> tuple[list[int], int]:
    unpack, starts = _LENGTH.unpack_from, []
    app = starts.append
    try:
        while True:  # the tightest loop: past the end, unpack_from raises and the last start is dropped
            app(pos)
            pos += unpack(data, pos)[0] + 4
    except struct.error:
        pass
    starts.pop()
    while starts and pos > limit:  # the last frames may run past the data: drop them, walking back
        pos = starts.pop()
    return starts, pos


def hash_spans(data: bytes, starts: np.ndarray, stops: np.ndarray, prefix: bytes) -> bytes:
    """SHA-256(prefix + data[starts[i]:stops[i]]) of every span, the 32-byte digests one after another."""
    starts = np.ascontiguousarray(starts, dtype=np.int64)
    stops = np.ascontiguousarray(stops, dtype=np.int64)
    if _native is not None:
        return _native.hash_spans(data, starts, stops, prefix, THREADS)
    return plain_hash_spans(data, starts, stops, prefix)


def plain_hash_spans(data: bytes, starts: np.ndarray, stops: np.ndarray, prefix: bytes) -> bytes:
    copy, view, digests = hashlib.sha256(prefix).copy, memoryview(data), []
    keep = digests.append
    for start, stop in zip(starts.tolist(), stops.tolist()):
        hasher = copy()
        hasher.update(view[start:stop])
        keep(hasher.digest())
    return b"".join(digests)


def group_spans(data: bytes, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Spans grouped by their bytes: each span's group (int64, groups numbered in order of first sight) and the row
    of each group's first span; None where the extension is not built (interning.py then groups by numpy)."""
    if _native is None:
        return None
    group, first = _native.group_spans(data, np.ascontiguousarray(starts, dtype=np.int64),
                                       np.ascontiguousarray(ends, dtype=np.int64))
    return np.frombuffer(group, dtype=np.int64), np.frombuffer(first, dtype=np.int64)


ENVELOPE_COLUMNS = 19  # _native.c's: ok, the envelope's span, where its hash is, then each field's span (seq a value)


def envelope_fields(data: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray | None:
    """The fields of the sealed events framed at data[starts[i]:ends[i]], as ENVELOPE_COLUMNS rows of int64 (see
    _native.c); None where the extension is not built (frames.py then reads them by numpy)."""
    if _native is None:
        return None
    found = _native.envelope_fields(data, np.ascontiguousarray(starts, dtype=np.int64),
                                    np.ascontiguousarray(ends, dtype=np.int64))
    return np.frombuffer(found, dtype=np.int64).reshape(ENVELOPE_COLUMNS, len(starts))


def gather_spans(data: bytes, starts: np.ndarray, ends: np.ndarray) -> bytes:
    """The spans' bytes one after another."""
    starts, ends = np.ascontiguousarray(starts, dtype=np.int64), np.ascontiguousarray(ends, dtype=np.int64)
    if _native is not None:
        return _native.gather_spans(data, starts, ends)
    return b"".join(map(data.__getitem__, map(slice, starts.tolist(), ends.tolist())))


def join_emptying(parts: list[bytes], pad: int) -> bytes:
    """The parts joined, then pad zero bytes; `parts` is left empty (in C each part is let go once copied, so the
    whole is never held twice)."""
    if _native is not None:
        joined = _native.join_emptying(parts, pad)
    else:
        joined = b"".join([*parts, bytes(pad)])
    parts.clear()
    return joined


def spans_are(data: bytes, starts: np.ndarray, ends: np.ndarray, value: bytes) -> np.ndarray | None:
    """Per span (bool): are its bytes exactly `value`? None where not built (frames.spans_equal then reads words)."""
    if _native is None:
        return None
    same = _native.spans_are(data, np.ascontiguousarray(starts, dtype=np.int64),
                             np.ascontiguousarray(ends, dtype=np.int64), value)
    return np.frombuffer(same, dtype=bool)


def not_ascii(data: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray | None:
    """Per span (bool): does it hold a byte of 0x80 or more? None where not built (frames.HighBytes then counts)."""
    if _native is None:
        return None
    high = _native.not_ascii(data, np.ascontiguousarray(starts, dtype=np.int64),
                             np.ascontiguousarray(ends, dtype=np.int64))
    return np.frombuffer(high, dtype=bool)


def chain_holds(data: bytes, digests: bytes, hash_at: np.ndarray, prev_starts: np.ndarray, prev_ends: np.ndarray,
                head: bytes) -> bool | None:
    """Whether each event's stated hash (32 bytes at hash_at) is its digest and its prev_hash span the hash before
    it (the first's: head); None where not built (bulk_verify then compares words by numpy)."""
    if _native is None:
        return None
    return _native.chain_holds(data, digests, np.ascontiguousarray(hash_at, dtype=np.int64),
                               np.ascontiguousarray(prev_starts, dtype=np.int64),
                               np.ascontiguousarray(prev_ends, dtype=np.int64), head)


def sealed_frames(hashes, raws) -> bytes | None:
    """The frames of SealedEvent(envelope=raw, hash=h) for each pair, as protobuf writes them; None where not built,
    or when a pair is not in the plain layout (export_pages.py then lays them out in Python)."""
    return None if _native is None else _native.sealed_frames(hashes, raws)
