"""What a registrant may write: the attributes, their limits, and the words of a doubt.

Values never hold control characters, so the voter list needs no escaping and stays
byte-reproducible; nor invisible formatting characters (bidi controls such as RIGHT-TO-LEFT OVERRIDE,
zero-width joiners and spaces, the byte order mark), which make text read other than it is. Each is
refused, naming the character, never quietly removed or rewritten.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from civitas_kernel.commands import CommandError

MAX_LENGTH = {"name": 100, "residence": 200, "link": 500, "note": 1000}
ATTRIBUTES = tuple(MAX_LENGTH)  # name, residence, link, note: the order replies and pages show
MAX_REASON = 500


class UnknownAttributeError(CommandError):
    """Not one of the attributes a registrant has."""


class ValueRefusedError(CommandError):
    """A value the register does not store: too long, control characters, or a link that is not one."""


def check_attribute(attribute: str) -> None:
    if attribute not in MAX_LENGTH:
        raise UnknownAttributeError(f"there is no attribute {attribute!r}; use one of: {', '.join(ATTRIBUTES)}")


def check_text(what: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise ValueRefusedError(f"{what} is {len(value)} characters long; shorten it to at most {limit}")
    if value.isascii() and value.isprintable():  # U+0020..U+007E: no control, format or private character among them
        return
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value):
        raise ValueRefusedError(f"{what} holds control characters (tabs, line breaks, ...); write it on one line")
    hidden = next((c for c in value if unicodedata.category(c) in ("Cf", "Cs", "Co")), None)
    if hidden is not None:
        name = unicodedata.name(hidden, "a private or unpaired character")
        raise ValueRefusedError(f"{what} holds U+{ord(hidden):04X} ({name}), an invisible character that can make "
                                "text read other than it is; remove it")


def check_link(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        raise ValueRefusedError(f"link {value[:60]!r} is not a web address; write it like https://example.org/me")


def check_value(attribute: str, value: str) -> None:
    """Refuse a value the attribute cannot hold; the message says how to fix it."""
    check_attribute(attribute)
    if not value:
        raise ValueRefusedError(f"write a value for {attribute}, or `unset {attribute}` to remove it")
    check_text(attribute, value, MAX_LENGTH[attribute])
    if attribute == "link":
        check_link(value)


def check_reason(reason: str) -> None:
    check_text("the reason", reason, MAX_REASON)
