"""The inbound SMTP server (aiosmtpd) and the loop that empties the inbox, on the event loop of whoever runs them:
`civitas up`'s web app (its lifespan) or `civitas mail serve`.

The server takes mail only for addresses at the site's mail domain (and the site's own address), refuses larger
messages than CIVITAS_MAIL_MAX_BYTES at the SMTP level (552: the sending relay tells its sender), writes each
accepted message into the inbox with its envelope recipient, answers 250 once it is on disk, and wakes the loop.
"""

from __future__ import annotations

import asyncio
import logging

from aiosmtpd.smtp import SMTP

from civitas_gateway.mail_interface.inbox import Inbox, empty

log = logging.getLogger("civitas.gateway.mail")


class InboundHandler:
    """aiosmtpd's handler: RCPT says which addresses are ours, DATA writes the message into the inbox."""

    def __init__(self, inbox: Inbox, domain: str, own: str, wake) -> None:
        self.inbox, self.domain, self.own, self.wake = inbox, domain.lower(), own.lower(), wake

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options) -> str:
        if not (address.lower().endswith("@" + self.domain) or address.lower() == self.own):
            return f"550 5.7.1 this server takes mail for @{self.domain} only; it relays nothing"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        content = envelope.original_content or envelope.content
        for recipient in envelope.rcpt_tos:
            await asyncio.to_thread(self.inbox.add, content, recipient)
        self.wake()
        return "250 Message accepted for delivery"


class MailService:
    """The inbound server and the inbox loop, started and stopped together on the running event loop."""

    def __init__(self, interface, inbox: Inbox, host: str, port: int) -> None:
        self.interface, self.inbox, self.host, self.port = interface, inbox, host, port
        self._waiting = asyncio.Event()
        self._server: asyncio.AbstractServer | None = None
        self._loop_task: asyncio.Task | None = None

    async def start(self) -> None:
        settings = self.interface.settings
        handler = InboundHandler(self.inbox, settings.mail_domain, self.interface.mail_from, self._waiting.set)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(handler, data_size_limit=settings.MAIL_MAX_BYTES, hostname=settings.mail_domain,
                         ident="civitas mail interface"), self.host, self.port, reuse_port=True)  # workers share it
        self.port = self._server.sockets[0].getsockname()[1]  # the port it got, when asked for 0
        self._loop_task = asyncio.create_task(self._empty_forever())

    async def _empty_forever(self) -> None:
        await empty(self.inbox, self.interface, unfinished=True)  # what a stopped process left
        while True:
            await self._waiting.wait()
            self._waiting.clear()
            await empty(self.inbox, self.interface)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._loop_task is not None:
            self._loop_task.cancel()
            try:
                await self._loop_task
            except asyncio.CancelledError:
                pass
