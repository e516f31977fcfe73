"""`civitas mail`: voters' commands by mail over the embedded site: put a message into the inbox, or serve SMTP."""

from __future__ import annotations

import sys

import typer

from civitas.cli.lazy import bootstrap

app = typer.Typer(help="Voters' commands by mail: register@SITE, POLL@SITE and the site's own address.",
                  no_args_is_help=True)


def _interface(host: str):
    from civitas_gateway import AuthSettings
    from civitas_gateway.auth import smtp_mailer
    from civitas_gateway.mail_interface import MailInterface, MailInterfaceSettings, MailStore
    from civitas_gateway.outbox import local_outbox
    from civitas_kernel.sql import create_engine

    site, auth, settings = bootstrap(), AuthSettings(), MailInterfaceSettings()
    outbox = local_outbox(auth, host)  # no relay on one's own machine: the answers land in the outbox
    mailer = outbox.mailer if outbox else smtp_mailer(auth)
    store = MailStore(create_engine(auth.store_url))
    interface = MailInterface(site, settings, mailer, store, mail_from=auth.mail_from)
    return interface, settings, outbox


@app.command()
def deliver(to: str = typer.Option(None, "--to", help="The envelope recipient, e.g. register@SITE "
                                                        "(default: the message's To at this site).")) -> None:
    """Put the message on standard input into the inbox and handle what waits there (like Votorola's vodeliver)."""
    import asyncio

    from civitas_gateway.mail_interface import Inbox, empty

    interface, settings, outbox = _interface("127.0.0.1")
    inbox = Inbox(settings.inbox_path)
    inbox.add(sys.stdin.buffer.read(), to)
    for outcome in asyncio.run(empty(inbox, interface)):
        typer.echo(f"{outcome.kind}: {outcome.detail}")
    if outbox:
        typer.echo(f"answers are in the outbox, {outbox.path} (no mail relay is configured)")


@app.command()
def serve(
    host: str = typer.Option(None, help="Address to listen on (CIVITAS_MAIL_HOST, default 127.0.0.1)."),
    port: int = typer.Option(None, help="Port to listen on (CIVITAS_MAIL_PORT, default 2525)."),
) -> None:
    """Run the inbound SMTP server of the mail interface over the embedded site (Ctrl-C stops)."""
    import asyncio

    from civitas_gateway.mail_interface import SERVE_PORT, Inbox, MailInterfaceSettings, MailService

    host = host or MailInterfaceSettings().MAIL_HOST
    interface, settings, outbox = _interface(host)
    port = port if port is not None else settings.MAIL_PORT if settings.MAIL_PORT is not None else SERVE_PORT
    service = MailService(interface, Inbox(settings.inbox_path), host, port)

    async def run() -> None:
        await service.start()
        typer.echo(f"taking mail for @{settings.mail_domain} on smtp://{service.host}:{service.port}  (Ctrl-C stops)")
        if outbox:
            typer.echo(f"no mail relay (CIVITAS_SMTP_HOST unset): answers are kept in {outbox.path}")
        try:
            await asyncio.Event().wait()
        finally:
            await service.stop()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
