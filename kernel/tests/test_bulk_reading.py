"""Bulk reading: many bodies' string fields at once, and addresses numbered, agree with the plain way."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civitas_kernel import fields, interning, native
from civitas_kernel.cut import Columns
from civitas_kernel.events import NewEvent
from civitas_kernel.fields import BodyReader
from civitas_kernel.interning import intern
from civitas_schema.v1 import registration_pb2, trust_pb2

TRUST = trust_pb2.TrustExtended.DESCRIPTOR.full_name


def columns(types, bodies) -> Columns:
    return Columns.of([NewEvent(t, b, "x") for t, b in zip(types, bodies)])


def read(types, bodies, names, texts=()):
    reader = BodyReader(columns(types, bodies), texts)
    spans = reader.fields(np.arange(len(bodies)), names)
    return [reader.text(s, e) for s, e in spans], reader


@pytest.fixture(params=["native", "plain"])
def grouping(request, monkeypatch):
    """Reading fields and grouping equal addresses in C (native.py), and as installed without it (numpy)."""
    if request.param == "plain":
        monkeypatch.setattr(native, "_native", None)
    return request.param


@pytest.mark.usefixtures("grouping")
def test_string_fields_are_read_as_the_generated_class_reads_them():
    messages = [
        registration_pb2.AttributeSet(voter="a@x.org", attribute="name", value="Alice"),
        registration_pb2.AttributeSet(voter="b@x.org", attribute="note", value="ü" * 100),  # a 2-byte length
        registration_pb2.AttributeSet(voter="c@x.org", attribute="note", value="x" * 20000),  # 3 bytes: read slowly
        registration_pb2.AttributeSet(voter="", attribute="name", value="no voter"),  # an empty field is left out
        registration_pb2.AttributeUnset(voter="d@x.org", attribute="link"),  # no value field at all
    ]
    types = [m.DESCRIPTOR.full_name for m in messages]
    (voters, attributes, values), _ = read(types, [m.SerializeToString() for m in messages],
                                           ("voter", "attribute", "value"))
    assert voters == [m.voter for m in messages]
    assert attributes == [m.attribute for m in messages]
    assert values == [getattr(m, "value", "") for m in messages]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 20000), st.booleans()), min_size=1, max_size=12))
def test_fields_of_any_length_are_read_alike_in_c_and_numpy(shapes):
    messages = [registration_pb2.AttributeSet(voter="v" * v, attribute="note", value="x" * n) if keep
                else registration_pb2.AttributeUnset(voter="v" * v, attribute="link") for v, n, keep in shapes]
    types = [m.DESCRIPTOR.full_name for m in messages]
    bodies = [m.SerializeToString() for m in messages]
    in_c, _ = read(types, bodies, ("voter", "attribute", "value"))
    with pytest.MonkeyPatch.context() as m:
        m.setattr(native, "_native", None)
        plain, _ = read(types, bodies, ("voter", "attribute", "value"))
    assert in_c == plain == [[x.voter for x in messages], [x.attribute for x in messages],
                             [getattr(x, "value", "") for x in messages]]


@pytest.mark.usefixtures("grouping")
def test_bodies_in_another_shape_are_read_slowly_but_alike():
    plain = trust_pb2.TrustExtended(truster="a@x.org", trustee="b@x.org").SerializeToString()
    reordered = b"\x12\x07b@x.org\x0a\x07a@x.org"  # field 2 first: valid protobuf, not deterministic encoding
    unknown = plain + b"\x18\x05"  # an unknown varint field 3
    (trusters, trustees), reader = read([TRUST] * 3, [plain, reordered, unknown], ("truster", "trustee"),
                                        texts=["z@x.org"])
    assert trusters == ["a@x.org"] * 3 and trustees == ["b@x.org"] * 3
    assert reader.text(*reader.text_spans) == ["z@x.org"]




@pytest.mark.usefixtures("grouping")
def test_addresses_are_numbered_in_address_order_and_equal_ones_alike():
    rng = random.Random(7)
    pool = ["b@x.org", "a@x.org", "a@x.orh", "ab@x.org", "zoë@exämple.org", "x" * 70 + "@long.example.org"]
    texts = [rng.choice(pool) for _ in range(500)]
    reader = BodyReader(columns([], []), texts)
    data, words = reader.data()
    ids, addresses = intern(data, words, *reader.text_spans)
    assert addresses == sorted(set(texts))
    assert [addresses[i] for i in ids.tolist()] == texts


def test_a_hash_collision_never_merges_two_voters(monkeypatch):
    monkeypatch.setattr(native, "_native", None)  # numpy's grouping: C's compares every span's bytes anyway
    texts = ["b@x.org", "a@x.org", "b@x.org", "c@x.org"]
    monkeypatch.setattr(interning, "_hash", lambda words, starts, lengths: np.zeros(len(starts), dtype=np.uint64))
    reader = BodyReader(columns([], []), texts)
    ids, addresses = intern(*reader.data(), *reader.text_spans)
    assert addresses == ["a@x.org", "b@x.org", "c@x.org"]
    assert ids.tolist() == [1, 0, 1, 2]


@pytest.mark.parametrize("size", [1, 2, 100, 3000])
@pytest.mark.usefixtures("grouping")
def test_the_fast_paths_hold_over_many_rows(size, monkeypatch):
    monkeypatch.setattr(interning, "CHUNK", 64)  # several chunks even for small cuts
    monkeypatch.setattr(fields, "CHUNK", 64)
    rng = random.Random(size)
    people = [f"{'v' * rng.randint(1, 40)}{i}@x.org" for i in range(max(2, size // 3))]
    made = [NewEvent.of(trust_pb2.TrustExtended(truster=rng.choice(people), trustee=rng.choice(people)), "x")
            for _ in range(size)]
    events = made
    reader = BodyReader(Columns.of(events))
    (s, e), (s2, e2) = reader.fields(np.arange(size), ("truster", "trustee"))
    ids, addresses = intern(*reader.data(), np.concatenate([s, s2]), np.concatenate([e, e2]))
    decoded = [trust_pb2.TrustExtended.FromString(ev.body) for ev in events]
    assert [addresses[i] for i in ids.tolist()] == [m.truster for m in decoded] + [m.trustee for m in decoded]


@pytest.mark.usefixtures("grouping")
def test_addresses_that_sort_only_the_slow_way_are_numbered_alike():
    texts = ["b\0@x.org", "b@x.org", "b\0", "a" * 90, "a" * 89 + "b", "é@x.org", "e@x.org"]
    reader = BodyReader(columns([], []), texts)
    ids, addresses = intern(*reader.data(), *reader.text_spans)
    assert addresses == sorted(set(texts))
    assert [addresses[i] for i in ids.tolist()] == texts


@pytest.mark.usefixtures("grouping")
def test_an_address_that_is_not_utf8_fails_as_decoding_it_would():
    data = b"ok@x.org\xff@x.org" + bytes(17)
    starts, ends = np.array([0, 8]), np.array([8, 15])
    with pytest.raises(UnicodeDecodeError):
        interning.intern_spans(data, np.frombuffer(data, dtype="<u8"), starts, ends)


@pytest.mark.usefixtures("grouping")
def test_addresses_alike_in_their_first_bytes_are_ordered_by_the_rest():
    rng = random.Random(11)
    stems = ["longname", "longnamf", "", "é", "\0"]
    texts = [rng.choice(stems) + "".join(rng.choice("ab\0é") for _ in range(rng.randrange(0, 20)))
             for _ in range(400)]
    reader = BodyReader(columns([], []), texts)
    ids, addresses = intern(*reader.data(), *reader.text_spans)
    assert addresses == sorted(set(texts))
    assert [addresses[i] for i in ids.tolist()] == texts


def test_spans_holding_a_byte_are_found_eight_bytes_at_a_time():
    rng = random.Random(2)
    texts = ["".join(rng.choice("ab@é") for _ in range(rng.randrange(0, 30))) for _ in range(300)]
    reader = BodyReader(columns([], []), texts)
    data, words = reader.data()
    found = interning.holds_byte(words, *reader.text_spans, ord("@"))
    assert found.tolist() == ["@" in t for t in texts]
