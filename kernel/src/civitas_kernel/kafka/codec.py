"""Kafka message values: the sealed envelope and its hash (civitas.v1.SealedEvent), keyed by site."""

from __future__ import annotations

from google.protobuf.message import DecodeError as _ProtobufDecodeError

from civitas_schema.v1 import envelope_pb2

from civitas_kernel.events import RecordedEvent

CHECKPOINT_HEADER = "civitas-checkpoint"  # a SignedCheckpoint for the message's position, when the site signed one


class UndecodableMessage(ValueError):
    """A message value that is not a SealedEvent."""


def encode(event: RecordedEvent) -> bytes:
    return encode_sealed(event.raw, event.hash)


def encode_sealed(raw: bytes, own_hash: bytes) -> bytes:
    """The message value of a sealed envelope (its exact bytes) and its own hash."""
    return envelope_pb2.SealedEvent(envelope=raw, hash=own_hash).SerializeToString(deterministic=True)


def key_of(site: str) -> bytes:
    """The message key: one site's events of a stream stay in one partition, hence in order."""
    return site.encode()


_SEALED_TAIL = 34  # field 2's tag, its length (32) and the hash


def decode(value: bytes | None) -> tuple[bytes, bytes]:
    """(envelope bytes, stated hash) of a message value; raises UndecodableMessage."""
    if not value:
        raise UndecodableMessage("empty message value")
    sliced = _slice_canonical(value)
    if sliced is not None:
        return sliced
    sealed = envelope_pb2.SealedEvent()
    try:
        sealed.ParseFromString(value)
    except _ProtobufDecodeError as error:
        raise UndecodableMessage(f"not a SealedEvent: {error}") from None
    if len(sealed.hash) != 32 or not sealed.envelope:
        raise UndecodableMessage("not a SealedEvent: missing envelope or 32-byte hash")
    return sealed.envelope, sealed.hash


def _slice_canonical(value: bytes) -> tuple[bytes, bytes] | None:
    """The two fields of a value laid out as encode_sealed writes it, by slicing; None for any other layout.

    That layout is field 1 (the envelope) then field 2 (a 32-byte hash) and nothing else, which a protobuf
    parser reads the same way; replay reads millions of them, and slicing is several times cheaper than parsing.
    """
    end = len(value) - _SEALED_TAIL
    if end < 3 or value[0] != 0x0A or value[end] != 0x12 or value[end + 1] != 32:
        return None
    length = shift = 0
    at = 1
    while at < 6:  # envelopes are far below 2**35 bytes: a longer length is not this layout
        byte = value[at]
        at += 1
        length |= (byte & 0x7F) << shift
        if byte < 0x80:
            break
        shift += 7
    else:
        return None
    if length == 0 or at + length != end:
        return None
    return value[at:end], value[end + 2:]
