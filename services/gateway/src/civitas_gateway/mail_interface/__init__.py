"""Voters' commands by mail: the inbound SMTP server, the inbox, and the interface that runs a mail's commands
(see interface.py)."""

from __future__ import annotations

from contextlib import asynccontextmanager

from civitas_gateway.mail_interface.inbox import Inbox, empty
from civitas_gateway.mail_interface.interface import MailInterface, Outcome
from civitas_gateway.mail_interface.server import MailService
from civitas_gateway.mail_interface.settings import SERVE_PORT, MailInterfaceSettings
from civitas_gateway.mail_interface.store import MailStore

__all__ = ["SERVE_PORT", "Inbox", "MailInterface", "MailInterfaceSettings", "MailService", "MailStore", "Outcome",
           "empty", "install_mail_interface", "mail_interface_of"]


def mail_interface_of(site, settings: MailInterfaceSettings, sign_in) -> MailInterface:
    """The interface over `site`, answering through the sign-in's mailer and keeping its state in the sign-in's
    store (the gateway's one store)."""
    return MailInterface(site, settings, sign_in.mailer, MailStore(sign_in.store.engine),
                         mail_from=sign_in.settings.mail_from)


def install_mail_interface(app, site, settings: MailInterfaceSettings, port: int) -> MailService:
    """Run the inbound server on `port` and empty the inbox while `app` serves (its lifespan); after install_auth."""
    interface = mail_interface_of(site, settings, app.state.civitas_auth.sign_in)
    service = MailService(interface, Inbox(settings.inbox_path), settings.MAIL_HOST, port)
    app.state.mail_service = service
    router_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a):
        await service.start()
        try:
            async with router_lifespan(a) as state:
                yield state
        finally:
            await service.stop()

    app.router.lifespan_context = lifespan
    return service
