"""The C loops of reading a cut (native.py) give what the plain Python ones give, for any input."""

from __future__ import annotations

import hashlib
import io
import os
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civitas_kernel import export_pages, frames, native
from civitas_schema.v1 import envelope_pb2

PREFIX = b"civitas/event/v1\n"


def test_the_kernel_was_built_with_its_extension():
    # Without it every record reads in plain Python, several times slower: make install needs gcc and OpenSSL's
    # headers (apt-get install gcc libssl-dev).
    assert native.BUILT, "civitas_kernel._native was not built: install gcc and libssl-dev, then make install"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600), st.lists(st.tuples(st.integers(0, 600), st.integers(0, 600)), max_size=40),
       st.binary(max_size=80))
def test_hashes_are_hashlibs(data, spans, prefix):
    spans = [(min(a, b, len(data)), min(max(a, b), len(data))) for a, b in spans]
    starts = np.array([a for a, _ in spans], dtype=np.int64)
    stops = np.array([b for _, b in spans], dtype=np.int64)
    want = b"".join(hashlib.sha256(prefix + data[a:b]).digest() for a, b in spans)
    assert native.hash_spans(data, starts, stops, prefix) == want
    assert native.plain_hash_spans(data, starts, stops, prefix) == want


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_a_long_run_shared_by_threads_hashes_every_row_in_its_place(monkeypatch, threads):
    monkeypatch.setattr(native, "THREADS", threads)
    data = os.urandom(40_000 * 50)
    starts = np.arange(0, len(data), 50, dtype=np.int64)
    stops = starts + np.arange(len(starts)) % 51
    assert native.hash_spans(data, starts, stops, PREFIX) == native.plain_hash_spans(data, starts, stops, PREFIX)


@pytest.mark.parametrize("start, stop", [(-1, 3), (5, 4), (0, 11)])
def test_a_span_outside_the_data_is_refused(start, stop):
    with pytest.raises(ValueError, match="not inside the data"):
        native.hash_spans(b"0123456789", np.array([0, start]), np.array([1, stop]), PREFIX)


def test_starts_and_stops_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="one length"):
        native.hash_spans(b"0123456789", np.array([0, 1]), np.array([1]), PREFIX)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=30), st.binary(max_size=7), st.integers(0, 12), st.data())
def test_frames_walk_as_in_python(frames, tail, lead, data):
    # Whole frames, then a tail that may be a partial length or a frame cut short; any limit up to the end.
    raw = bytes(lead) + b"".join(struct.pack(">I", len(f)) + f for f in frames) + tail
    pos = data.draw(st.integers(0, len(raw)))
    limit = data.draw(st.integers(0, len(raw)))
    starts, end = native.walk_frames(raw, pos, limit)
    plain_starts, plain_end = native.plain_walk_frames(raw, pos, limit)
    assert (starts.tolist(), end) == (plain_starts, plain_end)


def test_a_length_claiming_past_the_data_ends_the_walk():
    raw = struct.pack(">I", 3) + b"abc" + struct.pack(">I", 0xFFFFFFFF) + b"x"
    starts, end = native.walk_frames(raw, 0, len(raw))
    assert (starts.tolist(), end) == ([0], 7)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([b"", b"a", b"ab", b"a\0", b"\0a", b"x" * 9, b"x" * 8, b"\xc3\xa9"]), max_size=60))
def test_spans_group_by_their_bytes_in_order_of_first_sight(texts):
    data = b"".join(texts) + bytes(16)
    ends = np.cumsum([len(t) for t in texts], dtype=np.int64)
    starts = ends - np.array([len(t) for t in texts], dtype=np.int64)
    group, first = native.group_spans(data, starts, ends)
    seen: dict[bytes, int] = {}
    for t in texts:
        seen.setdefault(t, len(seen))
    assert group.tolist() == [seen[t] for t in texts]
    assert [texts[i] for i in first.tolist()] == list(seen)


def test_grouping_refuses_a_span_outside_the_data():
    with pytest.raises(ValueError, match="not inside the data"):
        native.group_spans(b"abc", np.array([0, 2]), np.array([1, 4]))


_TEXT = st.text(max_size=12)
_ENVELOPE = st.builds(envelope_pb2.Envelope, site=_TEXT, stream=_TEXT, seq=st.integers(0, 2**56 - 1),
                      event_id=_TEXT, type=_TEXT, actor=_TEXT, recorded_at_us=st.integers(-2**40, 2**55),
                      body=st.one_of(st.binary(max_size=300), st.binary(min_size=16_400, max_size=16_500)),
                      prev_hash=st.sampled_from([b"", bytes(32), b"\x01" * 32]))


def _frames_of(sealed: list[bytes]) -> bytes:
    return b"".join(struct.pack(">I", len(s)) + s for s in sealed)


@settings(max_examples=150, deadline=None)
@given(st.lists(_ENVELOPE, min_size=1, max_size=12), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)),
                                                              max_size=4))
def test_envelope_fields_are_found_as_numpy_finds_them(envelopes, flips):
    # Sealed envelopes, some bytes then changed: every row the C loop reads is in the plain shape, and its fields
    # are where numpy finds them and protobuf reads them; unchanged frames are read as numpy reads them (all, but for
    # a negative time, whose varint is longer than the plain shape's, or an empty envelope, which proto3 leaves out).
    sealed = [envelope_pb2.SealedEvent(envelope=e.SerializeToString(deterministic=True), hash=bytes(range(32)))
              .SerializeToString(deterministic=True) for e in envelopes]
    data = bytearray(_frames_of(sealed))
    begins = np.cumsum([0, *map(len, sealed)])[:-1] + 4 * np.arange(1, len(sealed) + 1)
    inside = [at for at, frame in zip(begins.tolist(), sealed) for at in range(at, at + len(frame))]  # not lengths
    for at, byte in flips:
        data[inside[at % len(inside)]] = byte
    blocks = list(frames.frame_blocks(io.BytesIO(bytes(data)), max_frame=1 << 20))
    for block in blocks:
        found, plain = frames.envelopes(block, block.starts, block.ends), frames.plain_envelopes(block, block.starts,
                                                                                                   block.ends)
        ok = found.ok
        assert not (ok & ~plain.ok).any()
        for name in ("envelope", "site", "stream", "event_id", "type", "actor", "body", "prev_hash"):
            for mine, theirs in zip(getattr(found, name), getattr(plain, name)):
                assert np.array_equal(mine[ok], theirs[ok]), name
        assert np.array_equal(found.seq[ok], plain.seq[ok]) and np.array_equal(found.hash_at[ok], plain.hash_at[ok])
        for row in np.flatnonzero(ok).tolist() if not flips else ():  # a changed one may no longer be UTF-8
            frame = bytes(block.data[block.starts[row]:block.ends[row]])
            envelope = envelope_pb2.Envelope.FromString(envelope_pb2.SealedEvent.FromString(frame).envelope)
            assert block.data[found.body[0][row]:found.body[1][row]] == envelope.body
            assert block.data[found.actor[0][row]:found.actor[1][row]].decode() == envelope.actor
            assert int(found.seq[row]) == envelope.seq
        if not flips:
            assert np.array_equal(ok, plain.ok)
            plain_shape = [e.recorded_at_us >= 0 and e != envelope_pb2.Envelope() for e in envelopes]
            assert ok.tolist() == plain_shape[:len(ok)]


def test_envelope_fields_refuse_a_span_outside_the_data():
    with pytest.raises(ValueError, match="not inside the data"):
        native.envelope_fields(b"0123456789", np.array([0]), np.array([11]))


def _sealed(envelope: bytes, tail: bytes = b"") -> bytes:
    return b"\x0a" + bytes([len(envelope)]) + envelope + b"\x12\x20" + bytes(32) + tail


@pytest.mark.parametrize("frame, ok", [
    (_sealed(b"\x0a\x01s\x12\x04vote\x18\x07"), True),
    (_sealed(b"\x0a\x01s\x12\x04vote\x18\x07", tail=b"\x00"), False),  # a byte after the hash
    (_sealed(b"\x12\x04vote\x0a\x01s"), False),  # fields out of order
    (_sealed(b"\x0a\x01s\x0a\x01s"), False),  # a field twice
    (_sealed(b"\x0a\x01s\x18\x87"), False),  # a varint running into the hash
    (_sealed(b"\x0a\x05s"), False),  # a string longer than its envelope
    (b"\x0a\x03\x0a\x01s\x12\x21" + bytes(33), False),  # a hash of 33 bytes
])
def test_only_the_plain_shape_is_read(frame, ok):
    block = next(frames.frame_blocks(io.BytesIO(_frames_of([frame])), max_frame=1 << 20))
    assert frames.envelopes(block, block.starts, block.ends).ok.tolist() == [ok]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.lists(st.tuples(st.integers(0, 200), st.integers(0, 200)), max_size=30),
       st.sampled_from([b"", b"a", b"vote", b"\x80\x81", b"x" * 9]))
def test_spans_are_compared_gathered_and_told_ascii_as_in_python(data, spans, value):
    spans = [(min(a, b, len(data)), min(max(a, b), len(data))) for a, b in spans]
    starts = np.array([a for a, _ in spans], dtype=np.int64)
    stops = np.array([b for _, b in spans], dtype=np.int64)
    block = frames.Block(data + bytes(frames.PAD + 8), len(data), starts, stops)
    assert native.spans_are(block.data, starts, stops, value).tolist() == [data[a:b] == value for a, b in spans]
    assert frames.plain_spans_equal(block, (starts, stops), value).tolist() == [data[a:b] == value for a, b in spans]
    assert native.gather_spans(data, starts, stops) == b"".join(data[a:b] for a, b in spans)
    ascii_ = [all(c < 0x80 for c in data[a:b]) for a, b in spans]
    assert frames.ascii_spans(block.data, len(data), (starts, stops)).tolist() == ascii_
    assert frames.HighBytes(block.data, len(data)).ascii((starts, stops)).tolist() == ascii_


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 12), st.data())
def test_a_chain_holds_only_where_every_hash_and_link_is_right(rows, draw):
    # A run as bulk_verify reads it: each row's stated hash and prev_hash are 32 bytes in the data; one of them may
    # be changed, or a prev_hash span be other than 32 bytes long.
    digests = os.urandom(32 * rows)
    head = os.urandom(32)
    prev = [head] + [digests[32 * i:32 * i + 32] for i in range(rows - 1)]
    data = bytearray(b"".join(p + digests[32 * i:32 * i + 32] for i, p in enumerate(prev)))
    prev_starts = np.arange(rows, dtype=np.int64) * 64
    prev_stops, hash_at = prev_starts + 32, prev_starts + 32
    change = draw.draw(st.sampled_from(["none", "byte", "short"]))
    if change == "byte":
        data[draw.draw(st.integers(0, len(data) - 1))] ^= 1 << draw.draw(st.integers(0, 7))
    elif change == "short":
        prev_stops[draw.draw(st.integers(0, rows - 1))] -= 1
    holds = change == "none"
    assert native.chain_holds(bytes(data), digests, hash_at, prev_starts, prev_stops, head) is holds


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.binary(min_size=32, max_size=32), st.binary(max_size=40)),
                          st.one_of(st.binary(max_size=200), st.binary(min_size=16_380, max_size=16_400))),
                max_size=12))
def test_sealed_frames_are_what_protobuf_writes(pairs):
    # An export lays out each page's frames in one go: byte for byte what SealedEvent serialises to, framed.
    hashes, raws = [h for h, _ in pairs], [r for _, r in pairs]
    want = _frames_of([envelope_pb2.SealedEvent(envelope=r, hash=h).SerializeToString(deterministic=True)
                       for h, r in pairs])
    plain = all(len(h) == 32 and r for h, r in pairs)
    assert native.sealed_frames(hashes, raws) == (want if plain else None)
    assert export_pages.sealed_frames(hashes, raws) == want
    assert export_pages.plain_sealed_frames(hashes, raws) == want


class _Trickle(io.RawIOBase):
    """A reader that reads at most `most` bytes a call, into the buffer it is given."""

    def __init__(self, data: bytes, most: int) -> None:
        self._data, self._most, self._pos = data, most, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        k = min(len(buffer), self._most, len(self._data) - self._pos)
        buffer[:k] = self._data[self._pos:self._pos + k]
        self._pos += k
        return k


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=50), st.binary(max_size=300), st.integers(0, 400), st.integers(1, 64), st.integers(0, 40))
def test_a_block_read_after_its_tail_is_the_tail_what_was_read_and_zeros(tail, data, n, most, pad):
    expected = tail + data[:n] + bytes(pad)
    assert native.read_after(tail, _Trickle(data, most), n, pad) == expected
    assert native.read_after(tail, io.BytesIO(data), n, pad) == expected
    assert native.read_after(tail, _ReadOnly(data), n, pad) == expected  # no readinto of its own: read, then joined


class _ReadOnly(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._data = data

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        return self._data[:n]


def test_a_reader_that_claims_more_than_its_room_is_refused():
    class Boasting(_Trickle):
        def readinto(self, buffer) -> int:
            return len(buffer) + 1

    with pytest.raises(ValueError, match="more than it was given room for"):
        native.read_after(b"", Boasting(b"abc", 3), 3, 0)


def test_a_cascade_over_malformed_edges_is_refused_before_it_reads_them():
    primary, member = np.zeros(3, dtype=np.int32), np.ones(3, dtype=bool)
    good = np.array([0, 1, 2, 2], dtype=np.int64)
    assert native.cascade(1, primary + [1, 0, 0], member, good, np.array([1, 2], dtype=np.int32)).tolist() == \
        [True, True, True]  # 0 has its primary edge; 1 and 2 each need one source, and get it in turn
    for indptr, targets in [(good, np.array([1, 3], dtype=np.int32)),  # a target past the voters
                            (np.array([0, 2, 1, 2], dtype=np.int64), np.array([1, 2], dtype=np.int32)),  # backwards
                            (good[:3], np.array([1, 2], dtype=np.int32))]:  # too short
        with pytest.raises(ValueError, match="cascade wants"):
            native.cascade(1, primary, member, indptr, targets)


def _in_python(monkeypatch):
    monkeypatch.setattr(native, "_native", None)


_FIELD = st.text(alphabet="ab\té\n", max_size=4)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.text(alphabet="abé", max_size=3), min_size=1, max_size=4), max_size=6),
       st.integers(1, 4), st.lists(st.integers(0, 3), max_size=4, unique=True), st.sampled_from(["", "\n", "x", "\t"]))
def test_tsv_columns_are_found_as_numpy_finds_them(lines, width, wanted, tail):
    # Lines of random widths (only some are `width` wide) with something after: both paths agree, or both refuse.
    text = ("".join("\t".join(line) + "\n" for line in lines) + tail).encode()
    wanted = tuple(c for c in wanted if c < width)
    expected = None
    if all(len(line) == width for line in lines) and tail in ("", "\n" if width == 1 else ""):
        rows = [[f.encode() for f in line] for line in lines] + ([[b""]] if tail == "\n" else [])
        expected = [[row[c] for row in rows] for c in wanted]
    for path in ("c", "numpy"):
        with pytest.MonkeyPatch.context() as m:
            if path == "numpy":
                _in_python(m)
            found = native.tsv_columns(text, 0, width, wanted)
        if expected is None:
            assert found is None, path
        else:
            assert [[text[s:e] for s, e in zip(a.tolist(), b.tolist())] for a, b in found] == expected, path


def test_tsv_columns_start_where_told_and_refuse_a_text_cut_inside_a_line():
    text = b"HEAD\na\t1\nbb\t22\n"
    (voter_starts, voter_ends), (level_starts, level_ends) = native.tsv_columns(text, 5, 2, (0, 1))
    assert (voter_starts.tolist(), voter_ends.tolist()) == ([5, 9], [6, 11])
    assert (level_starts.tolist(), level_ends.tolist()) == ([7, 12], [8, 14])
    assert native.tsv_columns(text[:-1], 5, 2, (0,)) is None
    assert native.tsv_columns(b"HEAD\n", 5, 2, (0,))[0][0].tolist() == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=4), max_size=20), st.lists(st.binary(max_size=4), max_size=20))
def test_sorted_spans_find_their_rows_by_one_merge_as_a_dictionary_does(sought, table):
    sought, table = sorted(set(sought)), sorted(set(table))
    q, t = b"".join(sought), b"".join(table)
    q_lengths, t_lengths = [len(s) for s in sought], [len(s) for s in table]
    q_ends, t_ends = np.cumsum(q_lengths, dtype=np.int64), np.cumsum(t_lengths, dtype=np.int64)
    q_starts, t_starts = q_ends - q_lengths, t_ends - t_lengths
    expected = [table.index(s) if s in table else -1 for s in sought]
    assert native.rows_in_sorted(q, q_starts, q_ends, t, t_starts, t_ends).tolist() == expected
    with pytest.MonkeyPatch.context() as m:
        _in_python(m)
        assert native.rows_in_sorted(q, q_starts, q_ends, t, t_starts, t_ends).tolist() == expected


@pytest.mark.parametrize("path", ["c", "python"])
def test_spans_out_of_order_are_refused_not_merged_wrongly(monkeypatch, path):
    if path == "python":
        _in_python(monkeypatch)
    data = b"bab"
    two = (np.array([0, 1], dtype=np.int64), np.array([1, 2], dtype=np.int64))  # "b", "a": descending
    one = (np.array([1], dtype=np.int64), np.array([2], dtype=np.int64))
    with pytest.raises(ValueError, match="the table are not in strictly ascending order"):
        native.rows_in_sorted(data, *one, data, *two)
    with pytest.raises(ValueError, match="the spans sought are not"):
        native.rows_in_sorted(data, *two, data, *one)


@pytest.mark.parametrize("path", ["c", "python"])
def test_parts_are_joined_with_zeros_after_and_let_go(monkeypatch, path):
    if path == "python":
        _in_python(monkeypatch)
    parts = [b"ab", b"", b"cde", bytes(range(200, 256))]
    expected = b"".join(parts) + bytes(5)
    assert native.join_emptying(parts, 5) == expected
    assert parts == []  # nothing left held twice
    assert native.join_emptying([], 0) == b""
