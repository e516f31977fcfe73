"""A segment read in columns holds exactly the types and bodies its envelopes hold, however its frames are laid out."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
import pytest

from civitas_kernel import frames
from civitas_kernel.cut import Columns, Cut, distinct, last_of_each, open_window, read_columns
from civitas_kernel.errors import SegmentError
from civitas_kernel.events import NewEvent
from civitas_kernel.segment import MAGIC, export_segment, read_envelopes_unchecked
from civitas_kernel.testing.events import trust, votes
from civitas_schema.v1 import envelope_pb2, poll_pb2, vote_pb2


@pytest.fixture
def segment(make_log, tmp_path) -> Path:
    log = make_log(site="alpha.example.org")
    log.append("vote", votes(30))
    log.append("poll", [NewEvent.of(poll_pb2.PollConfigured(), "operator")])  # an empty body: field 8 left out
    log.append("trust", [trust("zoë@exämple.org", "a@example.org")])
    log.append("vote", [NewEvent.of(vote_pb2.VoteCast(poll="p", voter="v@x.org", candidate="c" * 70_000), "v@x.org")])
    path = tmp_path / "alpha.seg"
    export_segment(log, path)
    return path


def same(a: Columns, b: Columns) -> bool:
    return (a.types == b.types and np.array_equal(a.type_codes, b.type_codes) and np.array_equal(a.starts, b.starts)
            and np.array_equal(a.ends, b.ends) and a.data[:a.size] == b.data[:b.size])


def plainly(path: Path) -> Columns:
    with open(path, "rb") as f:
        return Columns.of(list(read_envelopes_unchecked(f)))


@pytest.mark.parametrize("block", [50, 4096, 1 << 24])
def test_columns_hold_what_the_envelopes_hold(segment, monkeypatch, block):
    monkeypatch.setattr(frames, "BLOCK", block)
    with open(segment, "rb") as f:
        columns = read_columns(f)
    expected = plainly(segment)
    assert same(columns, expected) and len(columns) == 33
    assert columns.types == ("civitas.v1.PollConfigured", "civitas.v1.TrustExtended", "civitas.v1.VoteCast")
    assert columns.body(0) == b"" and len(columns.body(32)) > 70_000


def test_a_cut_reads_itself_in_columns_or_one_envelope_at_a_time(segment):
    cut = Cut(lambda: open(segment, "rb"))
    assert same(cut.columns(), plainly(segment))
    assert [e.seq for e in cut][:3] == [1, 1, 1]  # poll, trust, then the votes


def test_frames_in_another_layout_are_read_slowly_but_alike(segment, tmp_path):
    data = segment.read_bytes()
    parts, offset = [], len(MAGIC)
    while offset < len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        parts.append(data[offset:offset + 4 + length])
        offset += 4 + length
    sealed = envelope_pb2.SealedEvent.FromString(parts[5][4:])
    # Field 2 before field 1: protobuf reads it the same; slicing does not, so that row is decoded.
    odd = b"\x12\x20" + sealed.hash + envelope_pb2.SealedEvent(envelope=sealed.envelope).SerializeToString()
    parts[5] = struct.pack(">I", len(odd)) + odd
    envelope = envelope_pb2.Envelope.FromString(sealed.envelope)
    envelope.event_id = ""  # and an envelope with a field left out
    again = envelope_pb2.SealedEvent(envelope=envelope.SerializeToString(), hash=sealed.hash).SerializeToString()
    parts[6] = struct.pack(">I", len(again)) + again
    changed = tmp_path / "changed.seg"
    changed.write_bytes(MAGIC + b"".join(parts))
    with open(changed, "rb") as f:
        columns = read_columns(f)
    assert same(columns, plainly(changed))


def test_a_window_of_a_file_reads_as_the_segment_alone(segment, tmp_path):
    wrapped = tmp_path / "wrapped"
    wrapped.write_bytes(b"x" * 1000 + segment.read_bytes() + b"y" * 99)
    assert same(read_columns(open_window(wrapped, 1000, segment.stat().st_size)), plainly(segment))


def test_a_segment_that_cannot_be_read_says_so(segment, tmp_path):
    broken = tmp_path / "broken.seg"
    for data, words in [(b"hello", "not a civitas log segment"), (segment.read_bytes()[:400], "cannot be read"),
                        (MAGIC + b"\0\0\0\x05hello", "cannot be read")]:
        broken.write_bytes(data)
        with pytest.raises(SegmentError, match=words), open(broken, "rb") as f:
            read_columns(f)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 30), max_size=60), st.sampled_from([31, 1 << 40, 1 << 58]))
def test_the_last_of_each_key_is_where_each_key_last_occurs(keys, scale):
    key = np.array(keys, dtype=np.int64) * (scale // 31 if scale > 31 else 1)
    last = {k: i for i, k in enumerate(key.tolist())}
    assert last_of_each(key, scale if scale > 31 else 31).tolist() == sorted(last.values())


def test_the_last_of_each_key_and_distinct_values():
    key = np.array([3, 1, 3, 2, 1, 2, 3], dtype=np.int64)
    assert last_of_each(key, 4).tolist() == [4, 5, 6]
    assert last_of_each(key * (1 << 59), 1 << 62).tolist() == [4, 5, 6]  # too big to pack with positions
    assert distinct(np.array([5, 1, 5, 3, 1])).tolist() == [1, 3, 5]
    assert last_of_each(np.zeros(0, dtype=np.int64), 1).tolist() == distinct(np.zeros(0)).tolist() == []
