"""`civitas list` and `civitas count`: the lifecycle of voter lists and counts, and showing them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from civitas.cli.lazy import bootstrap

if TYPE_CHECKING:
    from civitas_kernel.records import Record


def describe(action: str, record: Record) -> str:
    flags = ("M" if record.mounted else "-") + ("R" if record.reported else "-")
    cut = ", ".join(f"{c['stream']} {c['seq']}" for c in record.snap["cut"])
    depends = "".join(f", against {dep} {i}" for dep, i in record.snap.get("depends", {}).items())
    return f"{action:>7}  {record.label}  {flags}  cut: {cut}{depends}"


def records_app(kind: str, what: str) -> typer.Typer:
    app = typer.Typer(
        help=f"The lifecycle of {what}: snap, ready, mount, report (and umount, ureport, status, show). "
        f"With no action: snap through report, then unmount the {kind} reported before.",
        invoke_without_command=True,
    )

    def run_through(start: str, record_id: int | None, etc: str | None) -> None:
        from civitas_kernel.records import ACTIONS

        from civitas.progress import progress_bar

        store = bootstrap().records
        last = etc or start
        if last not in ACTIONS or ACTIONS.index(last) < ACTIONS.index(start):
            later = ", ".join(ACTIONS[ACTIONS.index(start):])
            raise typer.BadParameter(f"--etc must be an action at or after {start}: {later}")
        for action in ACTIONS[ACTIONS.index(start) : ACTIONS.index(last) + 1]:
            if action == "snap":
                record = store.snap(kind)
            elif action == "ready":
                with progress_bar(f"compiling {kind} {record_id}", None) as advance:
                    record = store.ready(kind, record_id, progress=advance)
            else:
                record = getattr(store, action)(kind, record_id)
            record_id = record.id
            typer.echo(describe(action, record))

    @app.callback()
    def default(ctx: typer.Context) -> None:
        if ctx.invoked_subcommand is None:
            from civitas_kernel.records import ACTIONS

            from civitas.progress import progress_bar

            store = bootstrap().records
            previous = store.reported_id(kind)
            with progress_bar(f"compiling a {kind}", None) as advance:
                done = store.run(kind, progress=advance)
            for action, record in zip(ACTIONS, done):
                typer.echo(describe(action, record))
            if previous is not None and previous != done[-1].id:
                typer.echo(describe("umount", store.get(kind, previous)))

    etc_option = typer.Option(None, "--etc", help="Run on through this action (snap, ready, mount, report).")
    record_argument = typer.Argument(None, help="The record's number (default: the newest).")

    @app.command()
    def snap(etc: str = etc_option) -> None:
        """Record the cut of the log and the configuration in force."""
        run_through("snap", None, etc)

    @app.command()
    def ready(record: int = record_argument, etc: str = etc_option) -> None:
        """Compile the result from exactly the record's cut into its signed archive."""
        run_through("ready", record, etc)

    @app.command()
    def mount(record: int = record_argument, etc: str = etc_option) -> None:
        """Load a ready record for queries."""
        run_through("mount", record, etc)

    @app.command()
    def report(record: int = record_argument) -> None:
        """Make a mounted record the one every interface shows."""
        run_through("report", record, None)

    @app.command()
    def umount(record: int = record_argument) -> None:
        """Unload a record (ureport it first if it is reported)."""
        typer.echo(describe("umount", bootstrap().records.umount(kind, record)))

    @app.command()
    def ureport(record: int = record_argument) -> None:
        """Stop reporting the reported record."""
        typer.echo(describe("ureport", bootstrap().records.ureport(kind, record)))

    @app.command()
    def status() -> None:
        """List the records: M marks mounted, R reported."""
        records = bootstrap().records.status(kind)
        if not records:
            typer.echo(f"no {kind} records yet; `civitas {kind}` makes and reports one")
        for record in records:
            typer.echo(describe("ready" if record.ready else "snapped", record))

    return app
