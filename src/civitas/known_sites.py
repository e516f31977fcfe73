"""The sites this one knows, as its operator named them: a site's URL from sync.toml, its key pinned there or in
known-sites.toml. A voter names a site; only the operator's configuration says where it is and what key it has."""

from __future__ import annotations

from pathlib import Path

from civitas_kernel.signers import KNOWN_SITES, read_known_sites


def _peer(home: Path, me: str, site: str):
    from civitas_sync import read_network

    try:
        return read_network(home, me).peer(site)
    except ValueError:
        return None


def site_url(home: Path, me: str, site: str) -> str | None:
    peer = _peer(home, me, site)
    return peer.url if peer else None


def site_key(home: Path, me: str, site: str) -> bytes | None:
    peer = _peer(home, me, site)
    if peer is not None:
        return peer.public_key
    try:
        return read_known_sites(home / KNOWN_SITES).get(site)
    except ValueError:
        return None
