"""The compiler's fast paths: reading many bodies at once and numbering addresses agree with the plain way."""

from __future__ import annotations

import random

import numpy as np
import pytest

from civitas_kernel.events import NewEvent, RecordedEvent
from civitas_kernel.voter_list import VoterEntry, encode_voter_list
from civitas_registry import ListConfig, compile_voter_list
from civitas_registry.domain import interning
from civitas_registry.domain.interning import intern
from civitas_registry.domain.voter_list import encode_columns
from civitas_registry.domain.wire import BodyReader
from civitas_schema.v1 import doubt_pb2, registration_pb2, trust_pb2

from ..builders import recorded

TRUST = trust_pb2.TrustExtended.DESCRIPTOR.full_name
SET = registration_pb2.AttributeSet.DESCRIPTOR.full_name


def read(types, bodies, names, texts=()):
    reader = BodyReader(types, bodies, texts)
    spans = reader.fields(np.arange(len(bodies)), names)
    return [reader.text(s, e) for s, e in spans], reader


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


def test_bodies_in_another_shape_are_read_slowly_but_alike():
    plain = trust_pb2.TrustExtended(truster="a@x.org", trustee="b@x.org").SerializeToString()
    reordered = b"\x12\x07b@x.org\x0a\x07a@x.org"  # field 2 first: valid protobuf, not deterministic encoding
    unknown = plain + b"\x18\x05"  # an unknown varint field 3
    (trusters, trustees), reader = read([TRUST] * 3, [plain, reordered, unknown], ("truster", "trustee"),
                                        texts=["z@x.org"])
    assert trusters == ["a@x.org"] * 3 and trustees == ["b@x.org"] * 3
    assert reader.text(*reader.text_spans) == ["z@x.org"]


def test_addresses_are_numbered_in_address_order_and_equal_ones_alike():
    rng = random.Random(7)
    pool = ["b@x.org", "a@x.org", "a@x.orh", "ab@x.org", "zoë@exämple.org", "x" * 70 + "@long.example.org"]
    texts = [rng.choice(pool) for _ in range(500)]
    reader = BodyReader([], [], texts)
    data, words = reader.data()
    ids, addresses = intern(data, words, *reader.text_spans)
    assert addresses == sorted(set(texts))
    assert [addresses[i] for i in ids.tolist()] == texts


def test_a_hash_collision_never_merges_two_voters(monkeypatch):
    texts = ["b@x.org", "a@x.org", "b@x.org", "c@x.org"]
    monkeypatch.setattr(interning, "_hash", lambda words, starts, lengths: np.zeros(len(starts), dtype=np.uint64))
    reader = BodyReader([], [], texts)
    ids, addresses = intern(*reader.data(), *reader.text_spans)
    assert addresses == ["a@x.org", "b@x.org", "c@x.org"]
    assert ids.tolist() == [1, 0, 1, 2]


def test_columns_encode_to_the_kernels_bytes():
    entries = [VoterEntry("a@x.org", 3, "", 1, "90210", "Al", "1 Elm St 90210", "https://a.org", "hi"),
               VoterEntry("b@x.org", 0, "no residence given", 0)]
    columns = {c: [getattr(e, c) for e in entries] for c in entries[0].__slots__}
    columns["trust_level"] = np.array(columns["trust_level"], dtype=np.int32)
    assert encode_columns(columns) == encode_voter_list(entries)
    assert encode_columns({c: [] for c in columns}) == encode_voter_list([])


def test_a_cut_in_another_encoding_compiles_to_the_same_list():
    events = recorded([
        NewEvent.of(registration_pb2.AttributeSet(voter="a@x.org", attribute="residence", value="1 Elm St 90210"),
                    "a@x.org"),
        NewEvent.of(trust_pb2.PrimaryTrustExtended(voter="a@x.org", edges=2), "registrar"),
        NewEvent.of(trust_pb2.TrustExtended(truster="a@x.org", trustee="b@x.org"), "a@x.org"),
        NewEvent.of(doubt_pb2.DoubtRaised(doubter="a@x.org", doubted="c@x.org", reason="?"), "a@x.org"),
    ])
    reordered = [e if e.type != TRUST else RecordedEvent(e.site, e.stream, e.seq, e.event_id, e.type, e.actor, 0,
                                                         b"\x12\x07b@x.org\x0a\x07a@x.org", b"", b"", b"")
                 for e in events]
    assert compile_voter_list(reordered, ListConfig()) == compile_voter_list(events, ListConfig())
    assert b"b@x.org\t1\t" in compile_voter_list(events, ListConfig())


@pytest.mark.parametrize("size", [1, 2, 100, 3000])
def test_the_fast_paths_hold_over_many_rows(size, monkeypatch):
    monkeypatch.setattr(interning, "CHUNK", 64)  # several chunks even for small cuts
    rng = random.Random(size)
    people = [f"{'v' * rng.randint(1, 40)}{i}@x.org" for i in range(max(2, size // 3))]
    made = [NewEvent.of(trust_pb2.TrustExtended(truster=rng.choice(people), trustee=rng.choice(people)), "x")
            for _ in range(size)]
    events = recorded(made)
    reader = BodyReader([e.type for e in events], [e.body for e in events])
    (s, e), (s2, e2) = reader.fields(np.arange(size), ("truster", "trustee"))
    ids, addresses = intern(*reader.data(), np.concatenate([s, s2]), np.concatenate([e, e2]))
    decoded = [trust_pb2.TrustExtended.FromString(ev.body) for ev in events]
    assert [addresses[i] for i in ids.tolist()] == [m.truster for m in decoded] + [m.trustee for m in decoded]


@pytest.mark.parametrize("keys", [10, 1 << 61])  # packed with positions in one sort; too big for that
def test_the_last_change_of_each_key_decides(keys):
    from civitas_registry.domain.voter_list import _last_of_each

    key = np.array([3, 1, 3, 2, 1, 2, 3], dtype=np.int64) * (keys // 10)
    extended = np.array([1, 1, 0, 1, 0, 0, 1], dtype=bool)  # 3: set, -, set last; 1: withdrawn; 2: withdrawn
    assert _last_of_each(key, extended, keys).tolist() == [6]
    assert _last_of_each(key[:3], extended[:3], keys).tolist() == [1]
