"""Events: what a command decides (NewEvent), and what the log has sealed (RecordedEvent)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import Message

from civitas_schema.v1 import envelope_pb2

# Importing the body modules registers their message types for decode_body.
from civitas_schema.v1 import (  # noqa: F401
    change_pb2,
    deployment_pb2,
    doubt_pb2,
    draft_pb2,
    lineage_pb2,
    lockout_pb2,
    maintenance_pb2,
    poll_pb2,
    registration_pb2,
    trust_pb2,
    vote_pb2,
)

ZERO_HASH = bytes(32)
EVENT_HASH_PREFIX = b"civitas/event/v1\n"
_EVENT_HASHER = hashlib.sha256(EVENT_HASH_PREFIX)


def event_hash(envelope_bytes: bytes) -> bytes:
    """The own hash of a sealed envelope: SHA-256 over a domain prefix and the exact sealed bytes."""
    hasher = _EVENT_HASHER.copy()
    hasher.update(envelope_bytes)
    return hasher.digest()


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event a command decided on, before the log gives it a position."""

    type: str
    body: bytes
    actor: str

    @classmethod
    def of(cls, message: Message, actor: str) -> NewEvent:
        return cls(message.DESCRIPTOR.full_name, message.SerializeToString(deterministic=True), actor)


class RecordedEvent(NamedTuple):
    """An event as sealed by its origin site: the envelope's fields, its bytes and its own hash.

    A named tuple rather than a frozen dataclass: replay makes millions, and a tuple is built four times faster.
    """

    site: str
    stream: str
    seq: int
    event_id: str
    type: str
    actor: str
    recorded_at_us: int
    body: bytes
    prev_hash: bytes
    hash: bytes
    raw: bytes

    @classmethod
    def from_envelope(cls, envelope: envelope_pb2.Envelope, raw: bytes, own_hash: bytes) -> RecordedEvent:
        e = envelope
        return cls(e.site, e.stream, e.seq, e.event_id, e.type, e.actor, e.recorded_at_us, e.body, e.prev_hash, own_hash, raw)

    @classmethod
    def decode(cls, raw: bytes, own_hash: bytes) -> RecordedEvent:
        envelope = envelope_pb2.Envelope()
        envelope.ParseFromString(raw)
        return cls.from_envelope(envelope, raw, own_hash)

    def message(self) -> Message:
        return decode_body(self.type, self.body)


def seal_batch(
    site: str,
    stream: str,
    after_seq: int,
    head_hash: bytes,
    events: Iterable[NewEvent],
    event_ids: Iterable[str],
    recorded_at_us: int,
) -> list[tuple[int, bytes, bytes]]:
    """Give events their places in a chain: (seq, own hash, canonical bytes) for each, in order."""
    sealed = []
    seq = after_seq
    envelope_class = envelope_pb2.Envelope
    for event, event_id in zip(events, event_ids):
        seq += 1
        raw = envelope_class(
            site=site,
            stream=stream,
            seq=seq,
            event_id=event_id,
            type=event.type,
            actor=event.actor,
            recorded_at_us=recorded_at_us,
            body=event.body,
            prev_hash=head_hash,
        ).SerializeToString(deterministic=True)
        head_hash = event_hash(raw)
        sealed.append((seq, head_hash, raw))
    return sealed


_POOL = descriptor_pool.Default()
_CLASSES: dict[str, type[Message]] = {}  # a replay decodes millions of bodies of a handful of types


def message_class(type_name: str) -> type[Message]:
    found = _CLASSES.get(type_name)
    if found is not None:
        return found
    try:
        found = _CLASSES[type_name] = message_factory.GetMessageClass(_POOL.FindMessageTypeByName(type_name))
    except KeyError:
        raise LookupError(f"unknown event type {type_name!r}; is its schema in proto/ and generated?") from None
    return found


def decode_body(type_name: str, body: bytes) -> Message:
    message = message_class(type_name)()
    message.ParseFromString(body)
    return message
