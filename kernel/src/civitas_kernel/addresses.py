"""Voters' email addresses, normalised the one way every service and the gateway agree on.

email-validator checks the syntax (no DNS) and puts the domain through IDNA (UTS #46: `xn--` labels are read
back to Unicode, full-width letters folded); the local part is folded the same way (NFKC), so `ｂob` is `bob`;
the whole address is lower-cased. An address whose local part or one domain label mixes scripts
(`bоb@…` with a Cyrillic о, `bob@exаmple.org`) is refused with the reason: it could pass for another
voter's, and nobody's real mailbox needs it.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from civitas_kernel.commands import CommandError
from civitas_kernel.lookalikes import mixed_scripts

MAX_ADDRESS = 254


class AddressError(CommandError):
    """Not a usable email address."""


@lru_cache(maxsize=200_000)  # pure, and the same voters come up again and again
def normalise_address(text: str) -> str:
    """Validate an email address (syntax only, no DNS), fold it (NFKC, IDNA) and lower-case it whole."""
    text = (text or "").strip()
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
