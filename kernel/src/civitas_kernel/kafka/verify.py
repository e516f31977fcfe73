"""Judging one message against what a consumer has applied: accept, skip as a duplicate, hold for a gap, or refuse."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence

from civitas_schema.v1 import envelope_pb2

from civitas_kernel.errors import IntegrityError
from civitas_kernel.events import RecordedEvent, event_hash
from civitas_kernel.kafka import codec
from civitas_kernel.signing import open_checkpoint


class Verdict(enum.Enum):
    NEXT = "next"  # continues the chain: apply it
    DUPLICATE = "duplicate"  # at or below the applied position: already applied
    GAP = "gap"  # valid, but events before it are missing: hold it and wait
    BAD = "bad"  # can never be applied (undecodable, tampered, misplaced, forged, chain broken)


_NEXT, _DUPLICATE = (Verdict.NEXT, ""), (Verdict.DUPLICATE, "")


def decode_message(value: bytes | None, topic_stream: str) -> RecordedEvent | str:
    """The event in a message value, checked against its own hash; or why it is not one."""
    try:
        raw, stated = codec.decode(value)
    except codec.UndecodableMessage as error:
        return f"undecodable: {error}"
    if event_hash(raw) != stated:
        return "tampered: the event's content does not match its hash"
    try:
        envelope = envelope_pb2.Envelope.FromString(raw)
    except Exception:
        return "malformed: the value's envelope does not decode"
    if envelope.stream != topic_stream:
        return f"misplaced: an event of stream {envelope.stream!r} on the topic of {topic_stream!r}"
    return RecordedEvent.from_envelope(envelope, raw, stated)


def checkpoint_of(headers: Sequence[tuple[str, bytes]] | None) -> bytes | None:
    """The signed checkpoint travelling in a message's headers, if the site signed one at its position."""
    for k, v in headers or ():  # a plain loop: this runs for every message
        if k == codec.CHECKPOINT_HEADER:
            return v or None
    return None


def check_checkpoint(event: RecordedEvent, signed_bytes: bytes, site_keys: Mapping[str, bytes]) -> str | None:
    """Why a checkpoint said to close at `event` fails (signature, pinned key, or what it states), or None."""
    try:
        signed = envelope_pb2.SignedCheckpoint.FromString(signed_bytes)
        checkpoint = open_checkpoint(signed, site_keys.get(event.site))
    except IntegrityError as error:
        return error.problem
    except Exception:
        return "forged: the checkpoint header does not decode"
    if (checkpoint.site, checkpoint.stream, checkpoint.seq, checkpoint.head_hash) != (
        event.site, event.stream, event.seq, event.hash,
    ):
        return "forged: the signed checkpoint is not about this event"
    return None


def judge(event: RecordedEvent, head_seq: int, head_hash: bytes | None) -> tuple[Verdict, str]:
    """Place a decoded event against the applied head (head_hash None: link unknown, accepted on trust)."""
    if event.seq <= head_seq:
        if event.seq == head_seq and head_hash is not None and event.hash != head_hash:
            return Verdict.BAD, (f"conflict: differs from the event applied at position {event.seq}")
        return _DUPLICATE
    if event.seq > head_seq + 1:
        return Verdict.GAP, f"gap: positions {head_seq + 1}..{event.seq - 1} are missing"
    if head_hash is not None and event.prev_hash != head_hash:
        return Verdict.BAD, "chain broken: the event does not link to the hash of the event before it"
    return _NEXT
