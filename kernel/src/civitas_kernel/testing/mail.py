"""A real SMTP server for tests (aiosmtpd): every message it receives, parsed, and the sign-in codes in them.

A pytest plugin (fixtures smtp, inbox), registered from the repository's conftest.py; aiosmtpd comes with the
`test` extra.
"""

from __future__ import annotations

import email
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import policy
from email.message import EmailMessage

import pytest

from civitas_kernel.testing.ports import free_port

CODE = re.compile(r"^[ \t]+(\d{6})\r?$", re.M)  # how a sign-in mail sets out its code


class Inbox:
    """Every message a real SMTP server received, parsed; aiosmtpd calls handle_DATA."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self._to: dict[str, list[EmailMessage]] = {}  # by To: so a benchmark's thousands of sign-ins stay linear
        self._arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's handler hook
        with self._arrived:
            self.recipients.append(list(envelope.rcpt_tos))
            message = email.message_from_bytes(envelope.content, policy=policy.default)
            self.messages.append(message)
            self._to.setdefault(str(message["To"]), []).append(message)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def last_to(self, address: str, timeout: float = 10.0) -> EmailMessage:
        """The latest message to `address`, waiting up to `timeout` for a first one."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while not (found := self._to.get(address)):
                if not self._arrived.wait(max(0.0, deadline - time.monotonic())):
                    raise AssertionError(f"no mail to {address} within {timeout:g}s; "
                                         f"got mail to {[m['To'] for m in self.messages]}")
            return found[-1]

    def code_for(self, address: str, timeout: float = 10.0) -> str:
        """The sign-in code in the latest message to `address`."""
        return CODE.search(self.last_to(address, timeout).get_content())[1]


@contextmanager
def smtp_inbox() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on a free local port: (its inbox, its port)."""
    from aiosmtpd.controller import Controller

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on a free local port: (its inbox, its port)."""
    with smtp_inbox() as served:
        yield served


@pytest.fixture
def inbox(smtp) -> Inbox:
    return smtp[0]
