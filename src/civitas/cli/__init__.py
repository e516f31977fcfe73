"""The `civitas` command: one entry point, errors mapped to exit codes in one place."""

from __future__ import annotations

import sys

import click
import typer

from civitas_kernel.errors import IntegrityError, LogError, SegmentError

from civitas.cli import log_commands, site_commands
from civitas.exit_status import ExitStatus
from civitas.progress import stderr

app = typer.Typer(
    name="civitas",
    help="A self-governing, federated service for communities.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(log_commands.app, name="log")
site_commands.register(app)


def main(args: list[str] | None = None) -> ExitStatus:
    """Run the command line; returns the exit status instead of exiting, so tests run the real thing."""
    try:
        result = app(args=args, prog_name="civitas", standalone_mode=False)
    except click.exceptions.Exit as e:
        return ExitStatus(e.exit_code)
    except click.exceptions.Abort:
        stderr.print("Aborted.")
        return ExitStatus.ERROR
    except click.exceptions.ClickException as e:
        e.show()
        return ExitStatus.USAGE
    except (IntegrityError, SegmentError) as e:
        stderr.print(f"[bold red]Verification failed:[/] {e}", highlight=False)
        return ExitStatus.INTEGRITY
    except (LogError, ValueError) as e:
        stderr.print(f"[bold red]Error:[/] {e}", highlight=False)
        return ExitStatus.ERROR
    return ExitStatus(result) if isinstance(result, int) else ExitStatus.SUCCESS


def run() -> None:
    sys.exit(main())
