"""Obtaining an anchor for a link: a peer's signed head of a stream, checked against its origin's pinned key, as the
declaration an operator puts under that peer in sync.toml (`civitas sync anchor PEER STREAM`)."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx

from civitas_kernel.anchors import open_anchor
from civitas_kernel.errors import IntegrityError

from civitas_sync.config import pinned_keys, read_network
from civitas_sync.domain.anchors import DeclaredAnchor
from civitas_sync.domain.flows import pulled


def served_anchor(home: Path, site: str, peer_site: str, stream: str, origin: str | None = None,
                  timeout_s: float = 30) -> DeclaredAnchor:
    """The anchor `peer_site` serves now for origin's `stream` (origin: the peer itself unless named): its signed head,
    checked against the key this site pinned for the origin. ValueError saying what to do if it cannot be had."""
    peer = read_network(home, site).peer(peer_site)
    if peer is None:
        raise ValueError(f"{peer_site} is not attached; attach it first with `civitas sync attach`")
    origin = origin or peer.site
    if not pulled(peer.role, site, origin, stream):
        raise ValueError(f"{origin}/{stream} is not pulled from {peer.site} (a {peer.role} peer): an anchor is for a "
                         "stream this site takes over that link")
    key = {**pinned_keys(home), peer.site: peer.public_key}.get(origin)
    if key is None:
        raise ValueError(f"no key pinned for {origin}; pin it with `civitas known-sites add {origin} KEY` first, so "
                         "its signature can be checked")
    try:
        response = httpx.get(peer.base_url + "/sync/v1/heads", timeout=timeout_s)
        body = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError) as e:
        raise ValueError(f"{peer.site} at {peer.url} did not answer with its heads ({type(e).__name__}); "
                         "try again when it does") from None
    rows = body.get("streams") if isinstance(body, dict) and body.get("site") == peer.site else None
    if not isinstance(rows, list):
        raise ValueError(f"{peer.url} does not serve the heads of {peer.site}")
    entry = next((r for r in rows if isinstance(r, dict) and (r.get("origin"), r.get("stream")) == (origin, stream)),
                 None)
    if entry is None:
        raise ValueError(f"{peer.site} serves no {origin}/{stream}; it serves "
                         + (", ".join(sorted(f"{r.get('origin')}/{r.get('stream')}" for r in rows)) or "nothing"))
    try:
        signed = base64.b64decode(str(entry.get("checkpoint", "")), validate=True)
        anchor = open_anchor(signed, origin, stream, key, seq=int(entry.get("seq", 0)),
                             head_hash=bytes.fromhex(str(entry.get("hash", ""))))
    except IntegrityError as e:
        raise ValueError(f"{peer.site}'s head of {origin}/{stream} cannot be an anchor: {e}") from None
    except ValueError:
        raise ValueError(f"{peer.site}'s head of {origin}/{stream} does not decode as a signed head") from None
    return DeclaredAnchor(origin, stream, anchor.seq, anchor.hash, anchor.signed)
