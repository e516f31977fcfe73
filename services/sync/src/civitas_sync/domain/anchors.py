"""A link's declared anchor: the origin's signed head at position N, from which this site holds a stream it pulls
over that link instead of from position 1. Written in sync.toml under the peer, as `civitas sync anchor` prints it:

    [[peer.anchor]]
    origin = "town.example"
    stream = "registration"
    position = 120
    hash = "…64 hex digits…"
    checkpoint = "…the origin's signed checkpoint, base64, as its signed head was served…"

The position and hash are there for the operator to read; the checkpoint is what is checked (civitas_kernel.anchors),
against the origin's pinned key, and it must sign that position and hash."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass

STREAM = re.compile(r"[a-z][a-z0-9_-]{0,63}")


@dataclass(frozen=True)
class DeclaredAnchor:
    origin: str
    stream: str
    position: int
    hash: bytes
    checkpoint: bytes  # the origin's SignedCheckpoint, serialised

    @property
    def name(self) -> str:
        return f"{self.origin}/{self.stream}"


def declared_anchor(entry: object) -> DeclaredAnchor:
    """A [[peer.anchor]] table read; ValueError saying what to fix."""
    if not isinstance(entry, dict):
        raise ValueError("write each anchor as a [[peer.anchor]] table under its peer")
    missing = [k for k in ("origin", "stream", "position", "hash", "checkpoint") if k not in entry]
    if missing:
        raise ValueError(f"an anchor lacks {', '.join(map(repr, missing))} (each needs origin, stream, position, hash "
                         "and checkpoint: `civitas sync anchor PEER STREAM` prints them)")
    origin, stream, position = str(entry["origin"]), str(entry["stream"]), entry["position"]
    if not STREAM.fullmatch(stream):
        raise ValueError(f"anchor of {origin}: {stream!r} is not a stream name")
    if not isinstance(position, int) or isinstance(position, bool) or position < 1:
        raise ValueError(f"anchor of {origin}/{stream}: position must be a whole number from 1, not {position!r}")
    try:
        head_hash = bytes.fromhex(str(entry["hash"]))
    except ValueError:
        head_hash = b""
    if len(head_hash) != 32:
        raise ValueError(f"anchor of {origin}/{stream}: hash must be 64 hex digits (the event's hash at {position})")
    try:
        checkpoint = base64.b64decode(str(entry["checkpoint"]), validate=True)
    except (binascii.Error, ValueError):
        checkpoint = b""
    if not checkpoint:
        raise ValueError(f"anchor of {origin}/{stream}: checkpoint must be the origin's signed checkpoint in base64, "
                         "as its signed head is served (`civitas sync anchor PEER STREAM` prints it)")
    return DeclaredAnchor(origin, stream, position, head_hash, checkpoint)


def anchor_lines(anchor: DeclaredAnchor) -> list[str]:
    """The TOML lines declaring `anchor`, to stand under its [[peer]]."""
    return ["[[peer.anchor]]", f"origin = {json.dumps(anchor.origin)}", f"stream = {json.dumps(anchor.stream)}",
            f"position = {anchor.position}", f"hash = \"{anchor.hash.hex()}\"",
            f"checkpoint = \"{base64.b64encode(anchor.checkpoint).decode()}\""]
