"""A voter's command as data, and the voter shell's words: the one shape the shell, the API, the pages and the services
share."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from civitas_kernel.commands import CommandError


ODD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x85\u2028\u2029]")  # what no word holds


@dataclass(frozen=True, slots=True)
class VoterCommand:
    """One voter's command as data, so it can wait in a batch or travel to the service that owns it."""

    voter: str
    service: str  # "register", "change", or a poll's name
    args: tuple[str, ...]
    idempotency_key: str | None = None

    @property
    def verb(self) -> str:
        """What kind of command it is, for metrics and traces: e.g. `poll vote`, `register trust`, `change vote`."""
        kind = self.service if self.service in ("register", "change", "drafts") else "poll"  # a poll's name says nothing
        return f"{kind} {self.args[0] if self.args else 'help'}"

    @property
    def alone(self) -> bool:
        """A command with an idempotency key is written in a transaction of its own, with its key; so is a move
        between sites or a fork's confirmation (the statement is sealed before another site is shown it)."""
        return self.idempotency_key is not None or (self.service == "register" and self.args[:1] in SEALED_ALONE)


SEALED_ALONE = (("move",), ("accept-move",), ("confirm",))


def split_line(line: str) -> list[str]:
    """A voter-shell line's words, as a POSIX shell splits them (quotes group words; spaces and tabs part them).

    Any other control character or line separator is refused, not taken for a space: a value never holds one.
    """
    odd = ODD.search(line)
    if odd is not None:
        raise CommandError(f"the line holds U+{ord(odd[0]):04X}, a control character or line separator; "
                           "write one command a line, with words parted by spaces")
    if not any(c in line for c in "\"'\\"):
        return line.split()  # nothing quoted: the same words, without shlex's per-character loop
    try:
        return shlex.split(line)
    except ValueError as e:
        raise CommandError(f"cannot read that line ({e}); close your quotes") from None
