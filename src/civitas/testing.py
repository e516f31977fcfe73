"""What the site's tests and benchmarks share: a real SMTP server for sign-in codes, and apps served in a thread.

Registered as a pytest plugin from the repository's conftest.py (fixtures smtp, inbox, server_thread,
threaded_services). aiosmtpd, which the SMTP server needs, comes with the `test` extra.
"""

from __future__ import annotations

import email
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from email import policy
from email.message import EmailMessage

import pytest
import uvicorn

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


class ServerThread:
    """An application served over real HTTP by uvicorn in a thread of this process; its URL is known before it starts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    @contextmanager
    def serving(self, app) -> Iterator[str]:
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        thread = threading.Thread(target=server.run, name=f"uvicorn-{self.port}", daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the application on port {self.port} did not start")
            time.sleep(0.02)
        try:
            yield self.url
        finally:
            server.should_exit = True
            thread.join(30)


# -- fixtures ------------------------------------------------------------------------------

SERVICES = ("registry", "polls", "counter", "gateway")


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on a free local port: (its inbox, its port)."""
    with smtp_inbox() as served:
        yield served


@pytest.fixture
def inbox(smtp) -> Inbox:
    return smtp[0]


@pytest.fixture
def server_thread() -> type[ServerThread]:
    return ServerThread


@pytest.fixture
def threaded_services(tmp_path, make_database_url) -> Iterator[Callable[..., dict[str, str]]]:
    """start(kafka, auth, services=SERVICES, **settings) -> {service: URL}: each service's app in a thread of this
    process over real HTTP, each of registry, polls and counter on a PostgreSQL database of its own."""
    from civitas.distributed.counter_service import create_counter_app
    from civitas.distributed.gateway_service import create_gateway_app
    from civitas.distributed.polls_service import create_polls_app
    from civitas.distributed.registry_service import create_registry_app
    from civitas.distributed.settings import ServiceSettings
    from civitas.gateway.mail import SMTPMailer

    stack = ExitStack()

    def start(kafka, auth=None, services: tuple[str, ...] = SERVICES, **overrides) -> dict[str, str]:
        servers = {name: ServerThread() for name in services}
        urls = {f"{name.upper()}_URL": servers[name].url for name in ("registry", "polls", "counter") if name in servers}

        def settings(service: str) -> ServiceSettings:
            log_url = make_database_url("postgres") if service != "gateway" else None
            return ServiceSettings(SERVICE=service, HOME=tmp_path / "home", SITE="localhost", LOG_URL=log_url,
                                   **urls, **overrides)

        makers = {"registry": lambda: create_registry_app(settings("registry"), kafka=kafka),
                  "polls": lambda: create_polls_app(settings("polls"), kafka=kafka),
                  "counter": lambda: create_counter_app(settings("counter"), kafka=kafka),
                  "gateway": lambda: create_gateway_app(settings("gateway"), auth,
                                                        mailer=SMTPMailer(auth.SMTP_HOST, auth.SMTP_PORT))}
        for name in services:
            stack.enter_context(servers[name].serving(makers[name]()))
        return {name: server.url for name, server in servers.items()}

    with stack:
        yield start
