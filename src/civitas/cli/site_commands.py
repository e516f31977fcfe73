"""Commands about the site as a whole: where it lives, and running it."""

from __future__ import annotations

import json

import typer

from civitas.cli.lazy import bootstrap


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
            "live_repository": str(s.settings.live_repo_path),
        }
        if as_json:
            typer.echo(json.dumps(info, indent=2))
        else:
            for name, value in info.items():
                typer.echo(f"{name:>15}: {value}")

    @app.command()
    def up(
        host: str = typer.Option("127.0.0.1", envvar="CIVITAS_HOST", help="Address to listen on."),
        port: int = typer.Option(8000, envvar="CIVITAS_PORT", help="Port to listen on."),
        self_governed: bool = typer.Option(False, "--self-governed", help="Host mode: a supervisor holds the key "
                                           "and the port and runs the site from the live release, deploying its "
                                           "approved code changes (needs bubblewrap)."),
    ) -> None:
        """Run the whole site in this process on the embedded default (SQLite under CIVITAS_HOME)."""
        if self_governed:
            from civitas.cli.self_governed import supervise

            return supervise(host, port)
        from civitas_counter import CompileScheduler, compile_all
        from civitas_deployer import DecideScheduler, DeployScheduler, ReleaseHeader
        from civitas_gateway import AuthSettings, create_app, operator_token_path
        from civitas_gateway.mail_interface import MailInterfaceSettings, install_mail_interface
        from civitas_gateway.outbox import local_outbox, relay_configured
        from civitas_kernel.service.server import run_server, server_config
        from civitas_sync import SyncWorker, sync_router

        s = bootstrap()
        with s.lock:  # open the log and fold the state before answering anyone
            s.registry.catch_up()
            s.polls.catch_up()
            s.change.catch_up()  # the live repository is made here on first start
            s.drafts.prepare_queries()  # the query database: seconds on a big site, paid before anyone asks
        auth = AuthSettings()
        outbox = local_outbox(auth, host, console=typer.echo)  # None once a relay is set or the site is public
        app = create_app(s, auth, mailer=outbox.mailer if outbox else None)
        app.add_middleware(ReleaseHeader, home=s.settings.HOME)  # which release serves: what the smoke request checks
        deployer = None if s.settings.SUPERVISED else s.deployer(  # host mode: its supervisor deploys
            f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}")
        if deployer is not None:
            deployer.recover()  # before anyone is served: a deployment the last run left in between ends
        if outbox:
            outbox.install(app)
        syncing = SyncWorker(s.log, s.settings.HOME)  # pulls from the peers sync.toml names; they pull these routes
        app.include_router(sync_router(lambda: s.log, s.settings.HOME, prompt=syncing.prompt))
        mail = MailInterfaceSettings()
        if mail.MAIL_PORT is not None:  # voters' commands by mail, on the app's own event loop
            install_mail_interface(app, s, mail, mail.MAIL_PORT)
        every = s.settings.COMPILE_EVERY_MINUTES * 60
        scheduler = CompileScheduler(lambda: compile_all(s.compile, s.has_polls), every, s.settings.COMPILE_JITTER)
        typer.echo(f"civitas site {s.settings.SITE}, data in {s.settings.HOME}")
        if not auth.OPERATOR_TOKEN:
            typer.echo(f"operator token in {operator_token_path(auth)}")
        typer.echo(f"compiling a voter list and counts about every {s.settings.COMPILE_EVERY_MINUTES:g} minutes"
                   if every else "scheduled compiles are off (CIVITAS_COMPILE_EVERY_MINUTES=0)")
        if outbox:
            typer.echo(f"no mail relay (CIVITAS_SMTP_HOST unset): mail is kept in {outbox.path}, shown at "
                       f"http://{host}:{port}/outbox, and sign-in codes are printed here")
        elif not relay_configured(auth):
            typer.echo(f"no mail relay configured: mail goes to {auth.SMTP_HOST}:{auth.SMTP_PORT}; "
                       "set CIVITAS_SMTP_HOST (the local outbox serves only a site bound to loopback)")
        if mail.MAIL_PORT is not None:
            typer.echo(f"taking voters' mail for @{mail.mail_domain} on smtp://{mail.MAIL_HOST}:{mail.MAIL_PORT}")
        typer.echo(f"live repository {s.live_repo.path}; proposals whose voting closed are decided every "
                   f"{s.settings.DECIDE_EVERY_S:g} s")
        deciding = DecideScheduler(s.decide, s.settings.DECIDE_EVERY_S)
        deploying = DeployScheduler(deployer.run if deployer else (lambda: None),
                                    0 if deployer is None else s.settings.DEPLOY_EVERY_S)
        if deployer is not None:
            typer.echo(f"approved decisions are deployed every {s.settings.DEPLOY_EVERY_S:g} s, each release "
                       f"health-checked for up to {s.settings.DEPLOY_HEALTH_S:g} s; releases in {s.releases.root}")
        typer.echo(f"serving on http://{host}:{port}  (Ctrl-C stops)", err=False)
        scheduler.start()
        deciding.start()
        deploying.start()
        syncing.start()
        try:
            run_server(server_config(app, host=host, port=port, log_level="warning"))
        finally:
            syncing.stop()
            deploying.stop()
            deciding.stop()
            scheduler.stop()
