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


def decode(value: bytes | None) -> tuple[bytes, bytes]:
    """(envelope bytes, stated hash) of a message value; raises UndecodableMessage."""
    if not value:
        raise UndecodableMessage("empty message value")
    sealed = envelope_pb2.SealedEvent()
    try:
        sealed.ParseFromString(value)
    except _ProtobufDecodeError as error:
        raise UndecodableMessage(f"not a SealedEvent: {error}") from None
    if len(sealed.hash) != 32 or not sealed.envelope:
        raise UndecodableMessage("not a SealedEvent: missing envelope or 32-byte hash")
    return sealed.envelope, sealed.hash
