"""The inbox: a Maildir (CIVITAS_HOME/inbox) that the inbound server and `civitas mail deliver` put messages into,
and that the mail interface empties, one message at a time.

A message moves from new/ to cur/ when taken (a rename: one taker wins), and gets the S flag when handled. One
taken but not flagged was being handled when the process stopped; `unfinished` hands it out again, and handling
it twice applies it once (MailInterface).
"""

from __future__ import annotations

import logging
import mailbox
import os
from pathlib import Path

log = logging.getLogger("civitas.gateway.mail")


class Inbox:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        mailbox.Maildir(path, create=True)  # new/, cur/, tmp/

    def add(self, raw: bytes, recipient: str | None = None) -> str:
        """Put a message in; `recipient`, the SMTP envelope's, is written as Delivered-To on top, as MDAs do."""
        if recipient:
            raw = f"Delivered-To: {recipient}\r\n".encode() + raw
        return mailbox.Maildir(self.path, create=False).add(raw)

    def waiting(self) -> list[Path]:
        return sorted((self.path / "new").iterdir())

    def unfinished(self) -> list[Path]:
        return sorted(p for p in (self.path / "cur").iterdir() if p.name.endswith(":2,"))  # taken, never flagged S

    def take(self, path: Path) -> Path | None:
        """Move a waiting message to cur/; None if another taker was first."""
        taken = self.path / "cur" / (path.name.split(":2,")[0] + ":2,")
        try:
            os.rename(path, taken)
        except FileNotFoundError:
            return None
        return taken

    def handled(self, path: Path) -> None:
        os.rename(path, path.with_name(path.name.split(":2,")[0] + ":2,S"))


async def empty(inbox: Inbox, interface, *, unfinished: bool = False) -> list:
    """Handle every waiting message (and, with `unfinished`, those a stopped process left half-done)."""
    outcomes = []
    paths = inbox.unfinished() if unfinished else []
    for path in paths + inbox.waiting():
        taken = path if path.parent.name == "cur" else inbox.take(path)
        if taken is None:
            continue
        try:
            outcomes.append(await interface.handle(taken.read_bytes()))
        except Exception:  # noqa: BLE001 - the message stays unfinished and is tried again
            log.warning("the message %s could not be handled; it is tried again later", taken.name, exc_info=True)
            continue
        inbox.handled(taken)
    return outcomes
