"""Voters' email addresses, normalised the one way every service and the gateway agree on.

email-validator checks the syntax (no DNS) and puts the domain through IDNA (UTS #46: `xn--` labels are read
back to Unicode, full-width letters folded); the local part is folded the same way (NFKC), so `ｂob` is `bob`;
the whole address is lower-cased. An address whose local part or one domain label mixes scripts
(`bоb@…` with a Cyrillic о, `bob@exаmple.org`) is refused with the reason: it could pass for another
voter's, and nobody's real mailbox needs it.

The plain shape (ASCII letters, digits, `_+-` and single dots before the @, an ASCII domain) takes a short cut with the
same answer: its local part passes email-validator's dot-atom rule as it is, and its domain, the costly part, is
checked once per domain through the full path (`a@DOMAIN`); any other address, or a domain that is refused or that
IDNA would change, goes through validate_email whole, so refusals keep their words.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from civitas_kernel.commands import CommandError
from civitas_kernel.lookalikes import mixed_scripts

MAX_ADDRESS = 254
MAX_LOCAL = 64  # email-validator's limit before the @ (in strict mode); the short cut stays within it
_PLAIN = re.compile(r"([A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*)@([A-Za-z0-9.-]+)")


class AddressError(CommandError):
    """Not a usable email address."""


@lru_cache(maxsize=200_000)  # pure, and the same voters come up again and again
def normalise_address(text: str) -> str:
    """Validate an email address (syntax only, no DNS), fold it (NFKC, IDNA) and lower-case it whole."""
    text = (text or "").strip()
    plain = _PLAIN.fullmatch(text) if len(text) <= MAX_ADDRESS else None
    if plain and len(plain[1]) <= MAX_LOCAL and _plain_domain(plain[2]) == plain[2].lower():
        return text.lower()
    return _validated(text)


@lru_cache(maxsize=10_000)  # a site's voters share few domains
def _plain_domain(domain: str) -> str | None:
    """The domain as the full path normalises it (checked with a plain local part), or None if it refuses it."""
    try:
        return _validated("a@" + domain).rpartition("@")[2]
    except AddressError:
        return None


def _validated(text: str) -> str:
    """The full path: email-validator, then the scripts of every part."""
    text = text.strip()
    if not text or len(text) > MAX_ADDRESS:
        raise AddressError(f"{text[:60]!r} is not an email address; write it like alice@example.org")
    local, at, domain = text.rpartition("@")
    folded = unicodedata.normalize("NFKC", local) + at + domain if at else text
    try:
        checked = validate_email(folded, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as e:
        raise AddressError(f"{text!r} is not an email address ({e}); write it like alice@example.org") from None
    address = checked.normalized.lower()
    local, _, domain = address.rpartition("@")
    for part in (local, *domain.split(".")):
        scripts = mixed_scripts(part)
        if scripts:
            raise AddressError(
                f"{text!r} mixes {' and '.join(scripts)} letters in {part!r}, so it could pass for another address; "
                "write the address in the letters of one script, as your mail provider spells it")
    return address
