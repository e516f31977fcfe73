"""Verification of a hash chain, one event at a time: the one check behind verify, import and audit."""

from __future__ import annotations

from civitas_schema.v1 import envelope_pb2

from civitas_kernel.errors import IntegrityError
from civitas_kernel.events import RecordedEvent, event_hash


class ChainVerifier:
    """Checks that sealed events continue one site-stream from a known position and hash.

    Each event must hash to its stated hash, name this site and stream, carry the next
    position, and link to the hash of the event before it. The first failure raises
    IntegrityError naming the position and what is wrong.
    """

    __slots__ = ("site", "stream", "seq", "head_hash", "_envelope")

    def __init__(self, site: str, stream: str, after_seq: int, head_hash: bytes) -> None:
        self.site, self.stream = site, stream
        self.seq, self.head_hash = after_seq, head_hash
        self._envelope = envelope_pb2.Envelope()

    def fail(self, seq: int | None, problem: str) -> IntegrityError:
        return IntegrityError(self.site, self.stream, seq, problem)

    def check(self, raw: bytes, stated_hash: bytes) -> envelope_pb2.Envelope:
        """Verify the next event; returns its decoded envelope (reused: copy what you keep)."""
        expected = self.seq + 1
        if event_hash(raw) != stated_hash:
            raise self.fail(expected, "tampered: the event's content does not match its hash")
        envelope = self._envelope
        try:
            envelope.ParseFromString(raw)
        except Exception:
            raise self.fail(expected, "malformed: the event does not decode as an envelope") from None
        if envelope.site != self.site or envelope.stream != self.stream:
            raise self.fail(expected, f"misplaced: the event belongs to {envelope.site}/{envelope.stream}")
        if envelope.seq != expected:
            if envelope.seq <= self.seq:
                problem = f"duplicated or reordered: position {envelope.seq} comes again after {self.seq}"
            else:
                problem = f"gap: positions {expected}..{envelope.seq - 1} are missing"
            raise self.fail(expected, problem)
        if envelope.prev_hash != self.head_hash:
            raise self.fail(expected, "chain broken: the event does not link to the hash of the event before it")
        self.seq, self.head_hash = expected, stated_hash
        return envelope

    def check_event(self, event: RecordedEvent) -> RecordedEvent:
        """Verify an event read from storage; returns it decoded from its own bytes."""
        envelope = self.check(event.raw, event.hash)
        return RecordedEvent.from_envelope(envelope, event.raw, event.hash)
