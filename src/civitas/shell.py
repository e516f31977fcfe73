"""The voter shell: lines of `VOTER SERVICE COMMAND [ARGS]`, each routed to the service that owns it."""

from __future__ import annotations

from civitas_kernel.commands import CommandError, NotFoundError, Reply
from civitas_kernel.voter_command import VoterCommand

from civitas.site import Site, dispatch

USAGE = "write VOTER SERVICE COMMAND [ARGS], e.g. `alice@example.org register hello`"


def run_command(site: Site, words: list[str], *, idempotency_key: str | None = None) -> Reply:
    """Run one voter command given as words: VOTER SERVICE COMMAND [ARGS]."""
    if len(words) < 2:
        raise CommandError(f"too few words: {USAGE}")
    if "@" not in words[0]:
        raise CommandError(f"{words[0]!r} is not a voter's email address: {USAGE}")
    command = VoterCommand(words[0], words[1], tuple(words[2:]), idempotency_key)
    if command.service not in ("register", "change", "drafts"):
        site.polls.catch_up()
        if not site.polls.has_poll(command.service):
            raise NotFoundError(f"there is no service {command.service!r}: use `register`, `change`, `drafts` or a "
                                "poll's name (`civitas poll list`)")
    return dispatch(site, command, local=True)
