"""`civitas lockdown`: the site governs itself from now on, and its host lets nobody in. Dry-run unless --apply."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from civitas.exit_status import ExitStatus


def lockdown(
    apply: bool = typer.Option(False, "--apply", help="Take the steps; without it, only print them."),
    root: Path = typer.Option(Path("/"), "--root", help="The host's root directory (a chroot to try it safely)."),
    yes: bool = typer.Option(False, "--yes", help="Lock this machine itself (--root /) without asking."),
) -> int:
    """Lock the operator out: the operator's token and commands stop working, the deployer's files become
    root's alone, SSH and console logins are switched off and login accounts locked. Only the voters'
    approved proposals change the site after this. Prints every step first; takes them with --apply."""
    from civitas_deployer.lockdown import apply_step, plan, read_facts

    from civitas.settings import Settings

    settings = Settings()
    if not root.is_dir() or not (root / "etc" / "passwd").is_file():
        raise ValueError(f"{root} is not a host's root directory (no etc/passwd): name a root with --root")
    home = str(settings.HOME.resolve()) if root == Path("/") else str(settings.HOME)
    steps = plan(read_facts(root, home))
    verb = "doing" if apply else "would do"
    for number, step in enumerate(steps, start=1):
        typer.echo(f"{number:>2}. {step.says}  [{'already so' if step.done else verb}]")
    todo = [s for s in steps if not s.done]
    if not apply:
        typer.echo(f"dry run: {len(todo)} of {len(steps)} steps to take; nothing changed. Run again with --apply.")
        return ExitStatus.SUCCESS
    if os.geteuid() != 0:
        raise ValueError("civitas lockdown --apply changes accounts and system files: run it as root")
    if root.resolve() == Path("/") and not yes:
        if not sys.stdin.isatty():
            raise ValueError("locking this machine itself needs --yes (no terminal to ask on)")
        typer.confirm(f"Lock the operator out of this machine and of {settings.SITE} for good?", abort=True)
    for step in todo:
        apply_step(root, step.action, settings.SITE)
        typer.echo(f"done: {step.says}")
    typer.echo(f"{settings.SITE} governs itself: {len(todo)} steps taken, {len(steps) - len(todo)} were already so.")
    return ExitStatus.SUCCESS
