"""The sites this one knows, as its operator named them: a site's URL and key from HOME/sync.toml's `[[peer]]` tables
(which `civitas sync attach` writes and the sync service checks), a key also from HOME/known-sites.toml. A voter
names a site; only the operator's files say where it is and what key it has. Read at each ask, so an attach counts
at once; a file that does not read knows no site (sync says what is wrong with it)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from civitas_kernel.signers import KNOWN_SITES, read_known_sites

SYNC_FILE = "sync.toml"


class KnownSites:
    """MoveOptions' site_url and site_key, read from a site's home."""

    def __init__(self, home: Path) -> None:
        self.home = home

    def _peer(self, site: str) -> dict:
        try:
            peers = tomllib.loads((self.home / SYNC_FILE).read_text(encoding="utf-8")).get("peer", [])
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            return {}
        if not isinstance(peers, list):
            return {}
        return next((p for p in peers if isinstance(p, dict) and p.get("site") == site), {})

    def url(self, site: str) -> str | None:
        url = self._peer(site).get("url")
        return url if isinstance(url, str) and url.startswith(("http://", "https://")) else None

    def key(self, site: str) -> bytes | None:
        key = self._peer(site).get("key")
        if isinstance(key, str) and len(key) == 64:
            try:
                return bytes.fromhex(key)
            except ValueError:
                pass
        try:
            return read_known_sites(self.home / KNOWN_SITES).get(site)
        except ValueError:
            return None
