"""Which service a mail is for (its address at the site), and which of its commands only read (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

REGISTER, POLL, META, CHANGE, CONFIRM, UNKNOWN = "register", "poll", "meta", "change", "confirm", "unknown"
CONFIRM_PREFIX = "confirm+"
TOKEN = re.compile(r"^[0-9a-f]{32}$")
META_COMMANDS = ("hello", "help", "version")


@dataclass(frozen=True)
class Destination:
    kind: str  # one of REGISTER, POLL, META, CHANGE, CONFIRM, UNKNOWN
    service: str = ""  # the voter shell's SERVICE: "register", "change" or the poll's name
    token: str = ""  # a challenge's token (CONFIRM)


def destination(recipient: str, *, domain: str, own: str, is_poll) -> Destination:
    """Where mail to `recipient` goes: register@DOMAIN, POLL@DOMAIN, change@DOMAIN, confirm+TOKEN@DOMAIN, or the
    site's own address `own` (the meta-service); `is_poll(name)` says whether a poll exists."""
    local, _, at = recipient.lower().rpartition("@")
    if recipient.lower() == own.lower():
        return Destination(META)
    if at != domain or not local:
        return Destination(UNKNOWN)
    if local == "register":
        return Destination(REGISTER, "register")
    if local == "change":
        return Destination(CHANGE, "change")
    if local.startswith(CONFIRM_PREFIX):
        token = local[len(CONFIRM_PREFIX):]
        return Destination(CONFIRM, token=token) if TOKEN.match(token) else Destination(UNKNOWN)
    if is_poll(local):
        return Destination(POLL, local)
    return Destination(UNKNOWN)


def reads_only(kind: str, words: list[str]) -> bool:
    """Whether a command line of the sender's only reads, so it may be answered without a challenge.

    Anything not known to read is held for the sender's answer: a mistake here can only delay a read.
    """
    command, rest = (words[0], words[1:]) if words else ("help", [])
    if rest == ["--help"] or (command in ("hello", "help") and not rest):
        return True
    listing = not rest or (rest[0] == "--alter" and len(rest) == 2)  # `trust`, `doubt --alter V`, `vote`
    if kind == REGISTER:
        return command in ("trust", "doubt") and listing
    if kind == POLL:
        return command == "vote" and listing
    if kind == CHANGE:
        return command in ("show", "list")
    return False
