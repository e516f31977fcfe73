"""Prompts between sites, signed: a site that has news asks the peers that pull from it to pull sooner. A prompt is
only a hint, but it wakes a worker, so it is taken only from a peer this site pulls from, signed with that peer's
pinned key, addressed to this site, fresh (within FRESH_S), and at most once per peer per MIN_INTERVAL_S."""

from __future__ import annotations

import threading
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from civitas_kernel.signing import SiteKey

from civitas_sync.domain.peers import Network

PREFIX = b"civitas/sync-prompt/v1\n"
FRESH_S = 120.0  # a prompt older (or further in the future) than this is refused: clocks may differ a little
MIN_INTERVAL_S = 1.0  # prompts from one peer more often than this are refused with 429


class PromptRefused(Exception):
    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status, self.retry_after = status, retry_after


def _signed(sender: str, receiver: str, at: int) -> bytes:
    return PREFIX + f"{sender}\n{receiver}\n{at}".encode()


def signed_prompt(key: SiteKey, sender: str, receiver: str, now: float | None = None) -> dict:
    """What a site posts to /sync/v1/prompt of `receiver`."""
    at = int(time.time() if now is None else now)
    return {"site": sender, "at": at, "signature": key.private_key.sign(_signed(sender, receiver, at)).hex()}


class PromptGate:
    """Checks prompts against this site's network and keeps each peer to one prompt a MIN_INTERVAL_S."""

    def __init__(self, clock=time.time) -> None:
        self.clock, self._last, self._lock = clock, {}, threading.Lock()

    def check(self, network: Network, sender: str, at: int, signature: str) -> None:
        peer = network.peer(sender)
        if peer is None or not peer.pulled:
            raise PromptRefused(403, f"{sender!r} is not a site this site pulls from; only they may prompt it")
        now = self.clock()
        if abs(now - at) > FRESH_S:
            raise PromptRefused(403, f"the prompt is stamped {at}, {abs(now - at):.0f} s from this site's clock "
                                f"(at most {FRESH_S:g} s): check both clocks")
        try:
            Ed25519PublicKey.from_public_bytes(peer.public_key).verify(bytes.fromhex(signature),
                                                                      _signed(sender, network.site, at))
        except (InvalidSignature, ValueError):
            raise PromptRefused(403, f"the prompt is not signed with the key pinned for {sender}") from None
        with self._lock:
            wait = self._last.get(sender, -MIN_INTERVAL_S) + MIN_INTERVAL_S - now
            if wait > 0:
                raise PromptRefused(429, f"{sender} prompted less than {MIN_INTERVAL_S:g} s ago", retry_after=wait)
            self._last[sender] = now
