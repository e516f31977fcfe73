"""Commands about the site as a whole: where it lives, and running it."""

from __future__ import annotations

import json

import typer

from civitas.site import bootstrap


def register(app: typer.Typer) -> None:
    @app.command()
    def site(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text.")) -> None:
        """Show this site's name, data directory, log and public key."""
        s = bootstrap()
        info = {
            "site": s.settings.SITE,
            "home": str(s.settings.HOME),
            "log": s.settings.log_url,
            "public_key": s.key.public_key.hex(),
        }
        if as_json:
            typer.echo(json.dumps(info, indent=2))
        else:
            for name, value in info.items():
                typer.echo(f"{name:>11}: {value}")

    @app.command()
    def up(
        host: str = typer.Option("127.0.0.1", envvar="CIVITAS_HOST", help="Address to listen on."),
        port: int = typer.Option(8000, envvar="CIVITAS_PORT", help="Port to listen on."),
    ) -> None:
        """Run the whole site in this process on the embedded default (SQLite under CIVITAS_HOME)."""
        import uvicorn

        from civitas_counter import CompileScheduler, compile_all
        from civitas_gateway import AuthSettings, create_app, operator_token_path

        s = bootstrap()
        with s.lock:  # open the log and fold the state before answering anyone
            s.registry.catch_up()
            s.polls.catch_up()
            s.drafts.prepare_queries()  # the query database: seconds on a big site, paid before anyone asks
        auth = AuthSettings()
        app = create_app(s, auth)
        every = s.settings.COMPILE_EVERY_MINUTES * 60
        scheduler = CompileScheduler(lambda: compile_all(s.compile, s.has_polls), every, s.settings.COMPILE_JITTER)
        typer.echo(f"civitas site {s.settings.SITE}, data in {s.settings.HOME}")
        if not auth.OPERATOR_TOKEN:
            typer.echo(f"operator token in {operator_token_path(auth)}")
        typer.echo(f"compiling a voter list and counts about every {s.settings.COMPILE_EVERY_MINUTES:g} minutes"
                   if every else "scheduled compiles are off (CIVITAS_COMPILE_EVERY_MINUTES=0)")
        typer.echo(f"serving on http://{host}:{port}  (Ctrl-C stops)", err=False)
        scheduler.start()
        try:
            uvicorn.run(app, host=host, port=port, log_level="warning")
        finally:
            scheduler.stop()
