"""The compiler's fast paths: columns encode like entries, odd encodings fold alike, the last change decides.

(Reading many bodies at once and numbering addresses are the kernel's: kernel/tests/test_bulk_reading.py.)
"""

from __future__ import annotations

import numpy as np
import pytest

from civitas_kernel.events import NewEvent, RecordedEvent
from civitas_kernel.voter_list import VoterEntry, encode_voter_list
from civitas_registry import ListConfig, compile_voter_list
from civitas_registry.domain.voter_list import encode_columns
from civitas_schema.v1 import doubt_pb2, registration_pb2, trust_pb2

from ..builders import recorded

TRUST = trust_pb2.TrustExtended.DESCRIPTOR.full_name


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


@pytest.mark.parametrize("keys", [10, 1 << 61])  # packed with positions in one sort; too big for that
def test_the_last_change_of_each_key_decides(keys):
    from civitas_registry.domain.voter_list import _last_of_each

    key = np.array([3, 1, 3, 2, 1, 2, 3], dtype=np.int64) * (keys // 10)
    extended = np.array([1, 1, 0, 1, 0, 0, 1], dtype=bool)  # 3: set, -, set last; 1: withdrawn; 2: withdrawn
    assert _last_of_each(key, extended, keys).tolist() == [6]
    assert _last_of_each(key[:3], extended[:3], keys).tolist() == [1]
