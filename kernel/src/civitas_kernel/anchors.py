"""Anchors: where a log holds another origin's stream from when not from position 1.

A new link starts at position 1, or at an anchor: the origin's own signed checkpoint at position N, declared by the
operator. The chain held here then continues from (N, hash) as the origin signed it, never from a position someone
else vouches for; what came before N is not held, and everything that reads the stream must say so.
"""

from __future__ import annotations

from dataclasses import dataclass

from civitas_schema.v1 import envelope_pb2

from civitas_kernel.errors import IntegrityError
from civitas_kernel.signing import open_checkpoint


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where a stream is held from: the origin's signed checkpoint at `seq` over the event hashed `hash`."""

    site: str
    stream: str
    seq: int
    hash: bytes
    signed: bytes  # the origin's SignedCheckpoint at seq, serialised

    @property
    def first(self) -> int:
        """The first position held here."""
        return self.seq + 1


def _refused(site: str, stream: str, seq: int | None, why: str) -> IntegrityError:
    return IntegrityError(site, stream, seq, f"anchor refused: {why}")


def open_anchor(signed: bytes | envelope_pb2.SignedCheckpoint, site: str, stream: str, public_key: bytes, *,
                seq: int | None = None, head_hash: bytes | None = None) -> Anchor:
    """The anchor a signed checkpoint declares for site/stream, checked against the origin's pinned `public_key`;
    `seq` and `head_hash`, if given, are what the declaration says in the clear and must be what is signed.
    Raises IntegrityError ("anchor refused: ...") saying what is wrong."""
    if isinstance(signed, envelope_pb2.SignedCheckpoint):
        signed = signed.SerializeToString(deterministic=True)
    if not signed:
        raise _refused(site, stream, seq, "it carries no signed checkpoint of the origin; declare the checkpoint "
                                          "the origin signed at that position (`civitas sync anchor PEER STREAM`)")
    try:
        message = envelope_pb2.SignedCheckpoint.FromString(signed)
        if not message.signature:
            raise ValueError("unsigned")
        checkpoint = open_checkpoint(message, public_key)
    except IntegrityError as e:
        raise _refused(site, stream, seq, f"{e.problem} (the key pinned for {site} is {public_key.hex()})") from None
    except Exception:
        raise _refused(site, stream, seq, "its checkpoint is not a signed checkpoint (it does not decode or "
                                          "carries no signature)") from None
    if (checkpoint.site, checkpoint.stream) != (site, stream):
        raise _refused(site, stream, seq, f"its checkpoint is of {checkpoint.site}/{checkpoint.stream}")
    if checkpoint.seq < 1 or len(checkpoint.head_hash) != 32:
        raise _refused(site, stream, seq, "its checkpoint names no position and event hash")
    if seq is not None and seq != checkpoint.seq:
        raise _refused(site, stream, seq, f"the declared position {seq} is not the one the origin signed "
                                          f"({checkpoint.seq})")
    if head_hash is not None and head_hash != checkpoint.head_hash:
        raise _refused(site, stream, checkpoint.seq, f"the declared hash {head_hash.hex()} is not the one the origin "
                                                     f"signed ({checkpoint.head_hash.hex()})")
    return Anchor(site, stream, checkpoint.seq, checkpoint.head_hash, signed)
