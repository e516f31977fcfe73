"""A voter's command as data, and the voter shell's words: the one shape the shell, the API, the pages and the services
share."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from civitas_kernel.commands import CommandError


@dataclass(frozen=True, slots=True)
class VoterCommand:
    """One voter's command as data, so it can wait in a batch or travel to the service that owns it."""

    voter: str
    service: str  # "register", or a poll's name
    args: tuple[str, ...]
    idempotency_key: str | None = None

    @property
    def verb(self) -> str:
        """What kind of command it is, for metrics and traces: e.g. `poll vote`, `register trust`, `drafts post`."""
        kind = self.service if self.service in ("register", "drafts") else "poll"  # a poll's name says nothing here
        return f"{kind} {self.args[0] if self.args else 'help'}"

    @property
    def alone(self) -> bool:
        """A command with an idempotency key is written in a transaction of its own, with its key."""
        return self.idempotency_key is not None


def split_line(line: str) -> list[str]:
    """A voter-shell line's words, as a POSIX shell splits them (quotes group words)."""
    if not any(c in line for c in "\"'\\"):
        return line.split()  # nothing quoted: the same words, without shlex's per-character loop
    try:
        return shlex.split(line)
    except ValueError as e:
        raise CommandError(f"cannot read that line ({e}); close your quotes") from None
