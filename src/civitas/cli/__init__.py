"""The `civitas` command: one entry point, errors mapped to exit codes in one place."""

from __future__ import annotations

import sys

import typer
from typer._click import exceptions as click_exceptions  # typer vendors click: its errors are these

from civitas_kernel.commands import CommandError
from civitas_kernel.errors import IntegrityError, LogError, SegmentError
from civitas_kernel.private_files import keep_files_private

from civitas.cli import (
    audit_command,
    change_commands,
    fork_command,
    lockdown_command,
    log_commands,
    mail_commands,
    poll_commands,
    records_commands,
    serve_command,
    show_commands,
    site_commands,
    sync_commands,
    voter_commands,
)
from civitas.exit_status import ExitStatus

app = typer.Typer(
    name="civitas",
    help="A self-governing, federated service for communities.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # click's plain help: rich's help formatting alone takes longer to import than the rest
)
site_commands.register(app)
app.add_typer(log_commands.app, name="log")
app.add_typer(voter_commands.registrar, name="registrar")
app.command(context_settings=voter_commands.VOTER_CONTEXT)(voter_commands.voter)
app.command()(voter_commands.signin)
list_app = records_commands.records_app("list", "voter lists")
list_app.command("show")(show_commands.show_list)
app.add_typer(list_app, name="list")
count_app = records_commands.records_app("count", "counts")
count_app.command("show")(show_commands.show_count)
app.add_typer(count_app, name="count")
app.add_typer(poll_commands.app, name="poll")
app.add_typer(mail_commands.app, name="mail")
app.add_typer(change_commands.app, name="change")
app.command()(audit_command.audit)
app.command()(lockdown_command.lockdown)
app.add_typer(audit_command.known_sites, name="known-sites")
app.command()(poll_commands.sim)
app.command()(serve_command.serve)
app.add_typer(sync_commands.app, name="sync")
app.command()(fork_command.fork)
app.command()(fork_command.lineage)


def main(args: list[str] | None = None) -> ExitStatus:
    """Run the command line; returns the exit status instead of exiting, so tests run the real thing."""
    keep_files_private()
    try:
        result = app(args=args, prog_name="civitas", standalone_mode=False)
    except typer.Exit as e:
        return ExitStatus(e.exit_code)
    except typer.Abort:
        from civitas.progress import stderr

        stderr.print("Aborted.")
        return ExitStatus.ERROR
    except click_exceptions.NoArgsIsHelpError as e:
        e.show()
        return ExitStatus.SUCCESS
    except click_exceptions.ClickException as e:
        e.show()
        return ExitStatus.USAGE
    except (IntegrityError, SegmentError) as e:
        from civitas.progress import stderr

        stderr.print(f"[bold red]Verification failed:[/] {e}", highlight=False)
        return ExitStatus.INTEGRITY
    except (CommandError, LogError, ValueError) as e:
        from civitas.progress import stderr

        stderr.print(f"[bold red]Error:[/] {e}", highlight=False)
        return ExitStatus.ERROR
    return ExitStatus(result) if isinstance(result, int) else ExitStatus.SUCCESS


def run() -> None:
    """The command line in this process as it is (civitas.entry is the console scripts' entry)."""
    sys.exit(main())
