"""Reading the string fields of millions of small event bodies at once, without a Python object per event.

Bodies such as TrustExtended, AttributeSet or VoteCast are protobuf messages whose fields 1..k are strings.
Encoded deterministically, each is the present (non-empty) fields in field order: tag byte `(f << 3) | 2`, a
varint length, the UTF-8 bytes. The bodies of a cut are one buffer (cut.Columns) and numpy walks the fields
of all of them together, giving each field as a span (start, end) into that buffer. A body that is not in that
plain shape (an unknown field, a string of 16 KiB or more, another encoder's field order) is decoded by its
generated class instead and its fields are appended to the buffer, so callers see spans either way and the
result never depends on the path.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from civitas_kernel import native
from civitas_kernel.cut import Columns
from civitas_kernel.events import decode_body

CHUNK = 1 << 18  # rows parsed together: numpy's temporaries stay small and are reused


def _padded(parts: list[bytes], size: int) -> bytes:
    """The parts joined, then zeros to a whole number of 8-byte words and two words more."""
    return b"".join([*parts, bytes(-size % 8 + 16)])


class BodyReader:
    """The bodies of a cut (and a few strings read elsewhere, appended); `fields` gives spans into them."""

    def __init__(self, columns: Columns, texts: Sequence[str] = ()) -> None:
        self._columns = columns
        self.starts, self.ends = columns.starts, columns.ends
        size = columns.size
        encoded = [t.encode() for t in texts]
        text_lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        text_ends = np.cumsum(text_lengths) + size
        self.text_spans = (text_ends - text_lengths, text_ends)  # spans of `texts`, in order
        self._size = int(text_ends[-1]) if len(encoded) else size
        self._data = _padded([memoryview(columns.data)[:size], *encoded], self._size) if encoded else columns.data
        self._extra: list[bytes] = []  # fields of bodies read the slow way, to append after the rest

    def fields(self, which: np.ndarray, names: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Spans (starts, ends) of string fields 1..len(names) of the bodies at positions `which`.

        names: the fields' names, used only to read a body the slow way (absent names read as "").
        """
        found = native.string_fields(self._data, self.starts, self.ends, which, len(names)) if names else None
        if found is not None:  # in C, where built
            return self._read_slowly(which, names, found[0], np.flatnonzero(~found[1]).tolist())
        buf = np.frombuffer(self._data, dtype=np.uint8)
        spans = [(np.empty(len(which), dtype=np.int64), np.empty(len(which), dtype=np.int64)) for _ in names]
        slow = []
        for c in range(0, len(which), CHUNK):
            rows = which[c:c + CHUNK]
            ends = self.ends[rows]
            pos = self.starts[rows]
            ok = np.ones(len(rows), dtype=bool)
            for number, (starts_out, ends_out) in enumerate(spans, start=1):
                present = (pos < ends) & (buf[pos] == (number << 3 | 2))
                b1 = buf[pos + 1].astype(np.int64)
                b2 = buf[pos + 2].astype(np.int64)
                two = b1 >= 0x80
                ok &= ~(present & two & (b2 >= 0x80))  # a length of three varint bytes: not handled here
                start = np.where(present, pos + 2 + two, pos)
                end = np.where(present, start + np.where(two, (b1 & 0x7F) | (b2 << 7), b1), pos)
                ok &= end <= ends
                np.minimum(end, ends, out=end)
                starts_out[c:c + CHUNK], ends_out[c:c + CHUNK] = start, end
                pos = end
            ok &= pos == ends
            if not ok.all():
                slow.extend((c + np.flatnonzero(~ok)).tolist())
        return self._read_slowly(which, names, spans, slow)

    def _read_slowly(self, which: np.ndarray, names: Sequence[str], spans: list, slow: list[int]) -> list:
        """The spans, with the rows in `slow` decoded by their generated class and their fields appended."""
        for row in slow:
            event = int(which[row])
            decoded = decode_body(self._columns.type_of(event), self._columns.body(event))
            for (starts_out, ends_out), name in zip(spans, names):
                starts_out[row], ends_out[row] = self._append(getattr(decoded, name, "").encode())
        return spans

    def _append(self, value: bytes) -> tuple[int, int]:
        start = self._size
        self._extra.append(value)
        self._size += len(value)
        return start, self._size

    def data(self) -> tuple[bytes, np.ndarray]:
        """The buffer every span points into, as bytes and as little-endian uint64 words (zeros after)."""
        if self._extra:
            self._data = _padded([self._data[: self._size - sum(map(len, self._extra))], *self._extra], self._size)
            self._extra = []
        return self._data, np.frombuffer(self._data, dtype="<u8")

    def text(self, starts: np.ndarray, ends: np.ndarray) -> list[str]:
        """The spans as strings (one Python object each: for the few values a list shows)."""
        data, _ = self.data()
        return [data[s:e].decode() for s, e in zip(starts.tolist(), ends.tolist())]
