"""The C loops of reading a cut (native.py) give what the plain Python ones give, for any input."""

from __future__ import annotations

import hashlib
import os
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civitas_kernel import native

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
