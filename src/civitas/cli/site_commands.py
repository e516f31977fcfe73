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

        from civitas.gateway.app import create_app

        s = bootstrap()
        s.log  # open (and create) the log before answering anyone
        typer.echo(f"civitas site {s.settings.SITE} (data in {s.settings.HOME})")
        typer.echo(f"serving on http://{host}:{port}  (Ctrl-C stops)")
        uvicorn.run(create_app(s), host=host, port=port, log_level="warning")
