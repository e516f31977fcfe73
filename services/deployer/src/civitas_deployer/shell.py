"""The voter shell's `change` commands: words in, a call of ChangeCommands out."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from civitas_kernel.addresses import normalise_address
from civitas_kernel.commands import CommandError, Reply

from civitas_deployer.replies import HELP, describe_delegations

if TYPE_CHECKING:
    from civitas_deployer.commands import ChangeCommands


def run_shell(commands: ChangeCommands, voter: str, args: list[str], idempotency_key: str | None) -> Reply:
    command, rest = (args[0], list(args[1:])) if args else ("help", [])
    if command not in HELP:
        raise CommandError(f"the change service has no command {command!r}; `change help` lists them")
    if command == "help":
        return Reply("Commands:\n" + "\n".join(HELP.values()))
    if "--help" in rest:
        return Reply(HELP[command])
    options, words = _options(rest, {"--patch", "--title", "--hash"})
    key = {"idempotency_key": idempotency_key}
    limit = commands.repo.max_patch_bytes
    if command == "propose":
        _expect(not words and "--patch" in options and "--title" in options, "propose --patch FILE --title TITLE")
        return commands.propose(voter, _read_patch(options["--patch"], limit), options["--title"], **key)
    if command == "revise":
        _expect(len(words) == 1 and "--patch" in options, "revise ID --patch FILE [--title TITLE]")
        return commands.revise(voter, words[0], _read_patch(options["--patch"], limit), options.get("--title"), **key)
    if command == "vote":
        _expect(len(words) == 2 and set(options) <= {"--hash"}, "vote ID yes|no|abstain [--hash CONTENT_HASH]")
        return commands.vote(voter, words[0], words[1], options.get("--hash"), **key)
    if command == "delegate":
        if not words and not options:
            commands.catch_up()
            return describe_delegations(normalise_address(voter), commands.state)
        _expect(len(words) >= 2 and not options, "delegate SCOPE DELEGATE [DELEGATE...]  or  delegate SCOPE none")
        return commands.delegate(voter, words[0], words[1:], **key)
    if command == "list":
        _expect(not words and not options, "list")
        return commands.list_proposals()
    _expect(len(words) == 1 and not options, f"{command} {'SCOPE' if command == 'undelegate' else 'ID'}")
    if command == "show":
        return commands.show(voter, words[0])
    if command == "withdraw":
        return commands.withdraw(voter, words[0], **key)
    if command == "unvote":
        return commands.unvote(voter, words[0], **key)
    return commands.undelegate(voter, words[0], **key)


def _expect(ok: bool, usage: str) -> None:
    if not ok:
        raise CommandError(f"write `change {usage}`")


def _options(args: list[str], known: set[str]) -> tuple[dict[str, str], list[str]]:
    options, words, i = {}, [], 0
    while i < len(args):
        if args[i].startswith("--"):
            if args[i] not in known or i + 1 >= len(args):
                raise CommandError(f"{args[i]} is not an option here, or lacks its value; `change help` lists them")
            options[args[i]] = args[i + 1]
            i += 2
        else:
            words.append(args[i])
            i += 1
    return options, words


def _read_patch(name: str, limit: int) -> bytes:
    try:
        with open(Path(name), "rb") as file:
            return file.read(limit + 1)  # one byte past the limit is enough to refuse it
    except OSError as error:
        raise CommandError(f"cannot read the patch {name}: {error.strerror}; make it with `git format-patch`") from None
