"""The voter shell's `change` commands: words in, a call of ChangeCommands out."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from civitas_kernel.addresses import normalise_address
from civitas_kernel.commands import CommandError, Reply
from civitas_kernel.idempotency import callers_key

from civitas_deployer.fetch import Source
from civitas_deployer.replies import HELP, describe_delegations

if TYPE_CHECKING:
    from civitas_deployer.commands import ChangeCommands


def run_shell(commands: ChangeCommands, voter: str, args: list[str], idempotency_key: str | None,
              local: bool = False) -> Reply:
    command, rest = (args[0], list(args[1:])) if args else ("help", [])
    if command not in HELP:
        raise CommandError(f"the change service has no command {command!r}; `change help` lists them")
    if command == "help":
        return Reply("Commands:\n" + "\n".join(HELP.values()))
    if "--help" in rest:
        return Reply(HELP[command])
    options, words = _options(rest, {"--patch", "--title", "--hash", *SOURCE_OPTIONS})
    key = {"idempotency_key": callers_key(voter, idempotency_key)}
    if command == "propose":
        _expect(not words and "--title" in options, "propose --patch FILE --title TITLE  (or --url URL --ref REF, "
                "or --branch BRANCH [--repo PATH], instead of --patch FILE)")
        return commands.propose(voter, _change(commands, options, local), options["--title"], local=local, **key)
    if command == "revise":
        _expect(len(words) == 1, "revise ID --patch FILE [--title TITLE]  (or --url URL --ref REF, "
                "or --branch BRANCH [--repo PATH], instead of --patch FILE)")
        return commands.revise(voter, words[0], _change(commands, options, local), options.get("--title"),
                               local=local, **key)
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


SOURCE_OPTIONS = {"--url", "--ref", "--branch", "--repo"}


def _change(commands: ChangeCommands, options: dict[str, str], local: bool) -> bytes | Source:
    """The change a propose or revise names: a patch file's bytes, or where to fetch it from."""
    given = {name for name in ("--patch", "--url", "--branch") if name in options}
    if len(given) != 1:
        raise CommandError("name the change once: --patch FILE, --url URL --ref REF, or --branch BRANCH [--repo PATH]")
    if "--patch" in options:
        _expect(not set(options) & SOURCE_OPTIONS, "propose --patch FILE --title TITLE")
        if not local:
            raise CommandError("a patch file can be read only on the site's own machine (`civitas voter`); "
                               "here, propose from a git URL with --url URL --ref REF")
        return _read_patch(options["--patch"], commands.repo.max_patch_bytes)
    if "--url" in options:
        _expect("--ref" in options and not {"--branch", "--repo"} & set(options), "propose --url URL --ref REF ...")
        return Source(options["--url"], options["--ref"])
    _expect("--ref" not in options, "propose --branch BRANCH [--repo PATH] ...")
    return Source(options.get("--repo", "."), options["--branch"])


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
