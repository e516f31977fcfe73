"""Random tokens and codes, and the digests the store keeps instead of them."""

from __future__ import annotations

import hashlib
import hmac
import secrets

CODE_DIGITS = 6


def new_token() -> str:
    """32 random bytes, URL-safe: session tokens and challenge ids."""
    return secrets.token_urlsafe(32)


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def digest(token: str) -> str:
    """What the store keeps of a high-entropy token: enough to find it, useless to present."""
    return hashlib.sha256(token.encode()).hexdigest()


def code_digest(challenge: str, code: str) -> str:
    # Keyed by the challenge id (which the store holds only as a digest), so a leaked store
    # does not let anyone try the million codes offline.
    return hmac.new(challenge.encode(), code.encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
