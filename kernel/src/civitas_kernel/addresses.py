"""Voters' email addresses, normalised the one way every service and the gateway agree on."""

from __future__ import annotations

from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from civitas_kernel.commands import CommandError

MAX_ADDRESS = 254


class AddressError(CommandError):
    """Not a usable email address."""


@lru_cache(maxsize=200_000)  # pure, and the same voters come up again and again
def normalise_address(text: str) -> str:
    """Validate an email address (syntax only, no DNS) and lower-case it whole."""
    text = (text or "").strip()
    if not text or len(text) > MAX_ADDRESS:
        raise AddressError(f"{text[:60]!r} is not an email address; write it like alice@example.org")
    try:
        checked = validate_email(text, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as e:
        raise AddressError(f"{text!r} is not an email address ({e}); write it like alice@example.org") from None
    return checked.normalized.lower()
