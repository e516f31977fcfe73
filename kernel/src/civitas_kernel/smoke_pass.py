"""The deployer's smoke requests, told apart from public traffic so no flood can make a good release fail its health
window: each carries `Civitas-Smoke: EXPIRES.MAC`, a short-lived pass the gateway checks before its rate limits and
exempts from them (for the front page alone).

The MAC's key is derived from the site key (HMAC-SHA256 of a fixed label under the raw private key), which the
deployer and the gateway hold and nothing a proposal brings can read: templates draw in a sandbox with no file or
setting in reach, and a host-mode release, which runs its own code, signs through the supervisor's socket and never
sees the key (so it issues and honours no pass; its smoke request goes to its own fresh port, which public traffic
does not reach). A pass names when it expires, at most MAX_TTL_S ahead, so one seen on the wire is worth little and
not for long; a forged, stale or malformed one is simply not a pass, and the request is limited like any other.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

SMOKE_HEADER = "civitas-smoke"
SMOKE_PATHS = ("/",)  # what the smoke request asks for; nothing else is exempt
MAX_TTL_S = 900  # no pass is good for longer than this, whatever it claims
_LABEL = b"civitas/smoke-pass/v1"


def site_key_of_settings(settings) -> Ed25519PrivateKey | None:
    """The site's private key as the settings name it (CIVITAS_KEY_FILE, else CIVITAS_HOME/site-key.pem); None in host
    mode (the key stays with the supervisor) or while there is no key yet."""
    if getattr(settings, "SIGNER_SOCKET", None) is not None:
        return None
    path = Path(getattr(settings, "key_file", None) or settings.key_path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError):
        return None
    return key if isinstance(key, Ed25519PrivateKey) else None


class SmokePass:
    def __init__(self, secret: bytes, clock: Callable[[], float] = time.time) -> None:
        self._secret, self.clock = secret, clock

    @classmethod
    def of_key(cls, key: Ed25519PrivateKey, clock: Callable[[], float] = time.time) -> SmokePass:
        raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
        return cls(hmac.new(raw, _LABEL, hashlib.sha256).digest(), clock)

    @classmethod
    def of_site_key(cls, site_key) -> SmokePass | None:
        """The pass of a loaded SiteKey; None for one that signs through the supervisor's socket (host mode)."""
        key = getattr(site_key, "private_key", None)
        return cls.of_key(key) if isinstance(key, Ed25519PrivateKey) else None

    @classmethod
    def of_settings(cls, settings) -> SmokePass | None:
        """The pass of the site key the settings name (CIVITAS_KEY_FILE, else CIVITAS_HOME/site-key.pem); None in
        host mode (the key stays with the supervisor) or while there is no key yet."""
        key = site_key_of_settings(settings)
        return cls.of_key(key) if key is not None else None

    def _mac(self, expires: int) -> str:
        return hmac.new(self._secret, b"expires %d" % expires, hashlib.sha256).hexdigest()

    def issue(self, ttl_s: float) -> str:
        """A pass good for `ttl_s` seconds (at most MAX_TTL_S)."""
        expires = int(self.clock() + min(max(ttl_s, 1.0), MAX_TTL_S)) + 1
        return f"{expires}.{self._mac(expires)}"

    def admits(self, value: str | None) -> bool:
        """Whether `value` is a pass this site issued that has not expired."""
        if not value or len(value) > 100:
            return False
        expires_text, _, mac = value.partition(".")
        if not expires_text.isdigit() or len(expires_text) > 12:
            return False
        expires, now = int(expires_text), self.clock()
        if not now < expires <= now + MAX_TTL_S + 1:
            return False
        return hmac.compare_digest(mac, self._mac(expires))

    def exempts(self, scope) -> bool:
        """Whether an ASGI request is the deployer's smoke request: GET or HEAD of the front page with a valid pass."""
        if scope.get("method") not in ("GET", "HEAD") or scope.get("path") not in SMOKE_PATHS:
            return False
        header = SMOKE_HEADER.encode()
        value = next((v for k, v in scope.get("headers") or () if k == header), None)
        return value is not None and self.admits(value.decode("latin-1"))


__all__ = ["MAX_TTL_S", "SMOKE_HEADER", "SmokePass", "site_key_of_settings"]
