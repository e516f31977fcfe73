"""Sending mail over SMTP (smtplib), to a relay given by settings.

`Mailer` is what the gateway needs: send one message or raise MailError. `SMTPMailer` is the real
one; tests that are not about mail may pass any object with a `send` method.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol


class MailError(Exception):
    """The message could not be handed to the relay (down, refused, timed out)."""


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class SMTPMailer:
    host: str
    port: int = 25
    starttls: bool = False
    user: str | None = None
    password: str | None = None
    timeout: float = 10.0  # seconds; the caller waits this long at worst before answering 503
    tls_context: ssl.SSLContext | None = None  # default: the system's CAs, hostname checked

    def send(self, message: EmailMessage) -> None:
        """Hand `message` to the relay; blocks, so call it from a thread, not the event loop."""
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=self.tls_context or ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as e:  # ssl.SSLError and timeouts are OSErrors
            raise MailError(f"mail to {message['To']} via {self.host}:{self.port} failed: {e}") from e
