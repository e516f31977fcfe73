"""Message values: the sliced reading of encode_sealed's layout agrees with a protobuf parser on every value."""

from __future__ import annotations

import pytest

from civitas_schema.v1 import envelope_pb2

from civitas_kernel.kafka import codec

HASH = bytes(range(32))


def parsed(value: bytes) -> tuple[bytes, bytes]:
    sealed = envelope_pb2.SealedEvent.FromString(value)
    return sealed.envelope, sealed.hash


def varint(n: int, pad_to: int = 0) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
        if not n:
            break
    while len(out) < pad_to:
        out.append(0x80)
    out[-1] &= 0x7F
    return bytes(out)


@pytest.mark.parametrize("size", [1, 127, 128, 300, 16_383, 16_384, 70_000])
def test_encode_sealed_values_read_back_exactly_at_every_length_prefix_size(size):
    envelope = bytes(i % 251 for i in range(size))
    value = codec.encode_sealed(envelope, HASH)
    assert codec.decode(value) == (envelope, HASH) == parsed(value)


@pytest.mark.parametrize("layout", [
    "hash first",
    "overlong length prefix",
    "an unknown field after the hash",
    "the envelope twice, the last one counts",
])
def test_other_valid_layouts_read_as_a_protobuf_parser_reads_them(layout):
    envelope = b"\x0a\x04site" * 20
    field_1 = b"\x0a" + varint(len(envelope)) + envelope
    field_2 = b"\x12\x20" + HASH
    value = {
        "hash first": field_2 + field_1,
        "overlong length prefix": b"\x0a" + varint(len(envelope), pad_to=4) + envelope + field_2,
        "an unknown field after the hash": field_1 + field_2 + b"\x18\x07",
        "the envelope twice, the last one counts": b"\x0a\x03old" + field_1 + field_2,
    }[layout]
    assert codec.decode(value) == parsed(value)


@pytest.mark.parametrize("value, problem", [
    (b"", "empty"),
    (codec.encode_sealed(b"envelope", HASH)[:-1], "not a SealedEvent"),  # cut short: the hash's length overruns
    (codec.encode_sealed(b"envelope", HASH[:31]), "32-byte hash"),
    (b"\x12\x20" + HASH, "missing envelope"),
    (b"\xff" * 40, "not a SealedEvent"),
])
def test_values_that_are_not_sealed_events_are_refused_with_the_reason(value, problem):
    with pytest.raises(codec.UndecodableMessage, match=problem):
        codec.decode(value)
