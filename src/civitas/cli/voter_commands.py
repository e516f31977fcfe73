"""`civitas voter` (the voter shell, run locally as the operator's tool) and `civitas registrar`."""

from __future__ import annotations

import shlex
import sys

import typer

from civitas_kernel.commands import CommandError
from civitas_kernel.errors import ConcurrencyError

from civitas.cli.lazy import bootstrap
from civitas.cli.locked import refuse_when_locked
from civitas.cli.void_notices import tell_voided
from civitas.exit_status import ExitStatus

registrar = typer.Typer(help="The registrar: the site itself, root of the trust network.", no_args_is_help=True)


@registrar.command("trust")
def registrar_trust(
    voter: str = typer.Argument(..., help="The voter's email address."),
    edges: int = typer.Option(1, min=1, max=1000, help="How many primary edges the registrar extends."),
) -> None:
    """Extend primary trust to a voter (several edges allowed)."""
    refuse_when_locked("the registrar's trust")
    typer.echo(bootstrap().registry.registrar_trust(voter, edges).text)


@registrar.command("untrust")
def registrar_untrust(voter: str = typer.Argument(..., help="The voter's email address.")) -> None:
    """Withdraw the registrar's primary trust from a voter."""
    refuse_when_locked("the registrar's trust")
    typer.echo(bootstrap().registry.registrar_untrust(voter).text)


# Everything after `voter` belongs to the voter's command, `--alter` and `--help` included.
VOTER_CONTEXT = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}


def voter(
    ctx: typer.Context,
    words: list[str] = typer.Argument(None, help="VOTER SERVICE COMMAND [ARGS]; none: read such lines from stdin."),
    url: str = typer.Option(None, "--url", envvar="CIVITAS_URL",
                            help="A remote site: send SERVICE COMMAND [ARGS] as the voter signed in there."),
) -> int:
    """Run voter commands: `civitas voter VOTER SERVICE COMMAND [ARGS]`, or one per line from standard input.

    SERVICE is `register`, `drafts` or a poll's name. Examples:
    `civitas voter alice@example.org register set residence 1 Elm St, Springfield 90210`,
    `civitas voter alice@example.org test-poll vote bob@example.org`,
    `civitas voter alice@example.org drafts group create Town hall`.
    """
    if words in (["--help"], ["-h"]):
        typer.echo(ctx.get_help())
        return ExitStatus.SUCCESS
    if url:
        from civitas.remote import RemoteSite, load_token, session_path
        from civitas.settings import Settings

        remote = RemoteSite(url, load_token(session_path(Settings().HOME, url)))
        run_line = remote.run
    else:
        from civitas_kernel.voter_command import split_line

        from civitas.shell import run_command

        refuse_when_locked("the local voter shell, which acts as any voter without signing in,")

        site = bootstrap()
        def run_line(line: str):
            return run_command(site, split_line(line))
    if words:
        reply = run_line(shlex.join(words))
        if not url:
            tell_voided(reply)
        typer.echo(reply.text)
        return ExitStatus.SUCCESS
    lines = ((n, line.strip()) for n, line in enumerate(sys.stdin, start=1))
    lines = ((n, line) for n, line in lines if line and not line.startswith("#"))
    failures = 0
    if url:
        for number, line in lines:
            failures += _report(number, _outcome(run_line, line))
    else:
        for chunk in _chunks(lines, CHUNK):
            replies: list[str] = []  # a chunk's replies printed at once, before anything else is said
            for number, outcome in run_chunk(site, chunk):
                if isinstance(outcome, CommandError) or (getattr(outcome, "data", None) or {}).get("voided"):
                    _say(replies)
                    tell_voided(outcome)
                    failures += _report(number, outcome)
                else:
                    replies.append(outcome.text)
            _say(replies)
    return ExitStatus.ERROR if failures else ExitStatus.SUCCESS


CHUNK = 2_000  # lines decided together and written in one transaction


def _chunks(items, size):
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _outcome(run_line, line: str):
    try:
        return run_line(line)
    except CommandError as e:
        return e


def _say(replies: list[str]) -> None:
    """The replies, each on its line, in one write (the bytes one echo each would give)."""
    if replies:
        typer.echo("\n".join(replies))
        replies.clear()


def _report(number: int, outcome) -> int:
    if isinstance(outcome, CommandError):
        from civitas.progress import stderr

        stderr.print(f"line {number}: {outcome}", highlight=False)
        return 1
    typer.echo(outcome.text)
    return 0


def run_chunk(site, chunk: list[tuple[int, str]]) -> list[tuple[int, object]]:
    """Decide a chunk of lines together and write them at once; replies only once written.

    If another writer moved a stream meanwhile, the chunk is decided again line by line.
    """
    from civitas_kernel.voter_command import split_line

    from civitas.shell import run_command

    def run_line(line: str):
        return run_command(site, split_line(line))

    try:
        with site.batch():
            return [(number, _outcome(run_line, line)) for number, line in chunk]
    except ConcurrencyError:
        return [(number, _outcome(run_line, line)) for number, line in chunk]


def signin(
    url: str = typer.Argument(..., help="The site, e.g. https://civitas.example.org"),
    email: str = typer.Argument(..., help="Your email address."),
) -> None:
    """Sign in to a remote site: it mails you a code, you type it here; then `civitas voter --url URL` acts as you."""
    from civitas.remote import RemoteSite, save_token, session_path
    from civitas.settings import Settings

    remote = RemoteSite(url)
    challenge = remote.request_code(email)
    code = typer.prompt(f"the code sent to {email}").strip()
    totp = typer.prompt("authenticator code (Enter if you have none)", default="", show_default=False).strip()
    save_token(session_path(Settings().HOME, url), remote.open_session(challenge, code, totp or None))
    typer.echo(f"signed in to {url} as {email}; `civitas voter --url {url} SERVICE COMMAND` now acts as you")
