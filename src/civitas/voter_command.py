"""A voter's command as data, and where it runs: the one shape the shell, the API, the pages and the services share."""

from __future__ import annotations

from dataclasses import dataclass

from civitas_kernel.commands import Reply


@dataclass(frozen=True, slots=True)
class VoterCommand:
    """One voter's command as data, so it can wait in a batch or travel to the service that owns it."""

    voter: str
    service: str  # "register", or a poll's name
    args: tuple[str, ...]
    idempotency_key: str | None = None

    @property
    def verb(self) -> str:
        """What kind of command it is, for metrics and traces: e.g. `poll vote`, `register trust`."""
        return f"{'register' if self.service == 'register' else 'poll'} {self.args[0] if self.args else 'help'}"

    @property
    def alone(self) -> bool:
        """A command with an idempotency key is written in a transaction of its own, with its key."""
        return self.idempotency_key is not None


def dispatch(site, command: VoterCommand) -> Reply:
    """Run a command at the service that owns it: the register, or a poll (which says so if it does not exist)."""
    if command.service == "register":
        return site.registry.run(command.voter, list(command.args), idempotency_key=command.idempotency_key)
    return site.polls.run(command.voter, command.service, list(command.args), idempotency_key=command.idempotency_key)
