"""Commands about the site as a whole: where it lives, and running it."""

from __future__ import annotations

import json

import typer

from civitas.cli.lazy import bootstrap


def _governed_by(home) -> str:
    from civitas_kernel.lockdown import lockdown_of

    locked = lockdown_of(home)
    return f"its voters, since {locked.since} (civitas lockdown)" if locked else "its operator (not locked down)"


def register(app: typer.Typer) -> None:
    @app.command()
    def site(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text.")) -> None:
        """Show this site's name, data directory, log and public key."""
        from civitas_deployer import allowed_signers_line
        from civitas_kernel.live_release import LiveRelease

        s = bootstrap()
        info = {
            "site": s.settings.SITE,
            "home": str(s.settings.HOME),
            "log": s.settings.log_url,
            "public_key": s.key.public_key.hex(),
            "live_repository": str(s.settings.live_repo_path),
            "governed_by": _governed_by(s.settings.HOME),
            # what a verifier puts in an allowed_signers file to check the release tags with `git verify-tag`
            "allowed_signers": allowed_signers_line(s.settings.SITE, s.key.public_key),
            "mirrors": ", ".join(r.url for r in s.settings.mirror_remotes) or "none",
        }
        live = LiveRelease.at(s.settings.HOME, releases=s.settings.releases_path)
        rules = s.rules()
        info |= {"live_release": live.commit if live else "none (civitas's own pages, the settings' rules)",
                 "rules_from": rules.source, "trust_range": rules.trust_range_prefix or "everywhere",
                 "pre_registration": rules.pre_registration_min,
                 "compile_every": f"{rules.compile_every_minutes:g} minutes, ±{rules.compile_jitter_percent}%"
                 if rules.compile_every_minutes else "never on a schedule",
                 "registrars": ", ".join(rules.registrars) or "the operator only"}
        if as_json:
            typer.echo(json.dumps(info, indent=2))
        else:
            for name, value in info.items():
                typer.echo(f"{name:>16}: {value}")

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
        from civitas_deployer import DecideScheduler, DeployScheduler, DeploymentControls
        from civitas_polls import ReleasePollsWatcher
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
        s.release_polls.check()  # the live release's polls, before anyone votes (nothing new after a restart)
        auth = AuthSettings()
        outbox = local_outbox(auth, host, console=typer.echo)  # None once a relay is set or the site is public
        app = create_app(s, auth, mailer=outbox.mailer if outbox else None)
        own = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "[::1]"}.get(host, f"[{host}]" if ":" in host else host)
        deployer = None if s.settings.SUPERVISED else s.deployer(  # host mode: its supervisor deploys
            f"http://{own}:{port}")  # smoke requests to this very site, through its gateway
        if deployer is not None:
            deployer.recover()  # before anyone is served: a deployment the last run left in between ends
            s.maintenance.recover()  # an action a stop cut short is recorded so, never run again by itself
            DeploymentControls(lambda: deployer).settle()  # a roll-back a stop left half-way is finished
        if outbox:
            outbox.install(app)
        syncing = SyncWorker(s.log, s.settings.HOME)  # pulls from the peers sync.toml names; they pull these routes
        app.include_router(sync_router(lambda: s.log, s.settings.HOME, prompt=syncing.prompt,
                                       rules=lambda: json.loads(s.list_config.to_json())))
        from civitas.moves_routes import moves_router

        app.include_router(moves_router(s))  # voters moving in from other sites
        mail = MailInterfaceSettings()
        if mail.MAIL_PORT is not None:  # voters' commands by mail, on the app's own event loop
            install_mail_interface(app, s, mail, mail.MAIL_PORT)
        every = s.settings.COMPILE_EVERY_MINUTES * 60
        scheduler = CompileScheduler(lambda: compile_all(s.compile, s.has_polls), every, s.settings.COMPILE_JITTER,
                                     rules=s.rules)
        typer.echo(f"civitas site {s.settings.SITE}, data in {s.settings.HOME}")
        if not auth.OPERATOR_TOKEN:
            typer.echo(f"operator token in {operator_token_path(auth)}")
        rules = s.rules()
        typer.echo(f"compiling a voter list and counts about every {rules.compile_every_minutes:g} minutes"
                   if rules.compile_every_minutes else "scheduled compiles are off", nl=False)
        typer.echo(f", by the rules of {rules.source} (asked again before each compile)")
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
        deploying = DeployScheduler((lambda: (s.maintenance.run_due(), deployer.run())) if deployer else (lambda: None),
                                    0 if deployer is None else s.settings.DEPLOY_EVERY_S)
        if deployer is not None:
            typer.echo(f"approved decisions are deployed every {s.settings.DEPLOY_EVERY_S:g} s, each release "
                       f"health-checked for up to {s.settings.DEPLOY_HEALTH_S:g} s; releases in {s.releases.root}")
        if s.mirrors.remotes:
            typer.echo(f"each release that passes health is pushed to {', '.join(s.mirrors.remotes)}")
        release_polls = ReleasePollsWatcher(s.release_polls)  # a newly live release's polls, within a second
        typer.echo(f"serving on http://{host}:{port}  (Ctrl-C stops)", err=False)
        scheduler.start()
        deciding.start()
        deploying.start()
        release_polls.start()
        syncing.start()
        s.mirrors.start()  # pushes each release that passed health to CIVITAS_MIRROR_URLS, retrying those down
        try:
            run_server(server_config(app, host=host, port=port, log_level="warning"))
        finally:
            s.mirrors.stop()
            syncing.stop()
            deploying.stop()
            release_polls.stop()
            deciding.stop()
            scheduler.stop()
