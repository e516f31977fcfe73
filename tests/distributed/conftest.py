"""Fixtures of the distributed tests: a real SMTP server for sign-in codes, and the cluster's environment."""

from __future__ import annotations

import email
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import policy

import pytest
import uvicorn
from aiosmtpd.controller import Controller

from civitas_kernel.testing.ports import free_port

OPERATOR_TOKEN = "operator-token-for-distributed-tests-0123456789"


class Inbox:
    """The latest sign-in code mailed to each address."""

    def __init__(self) -> None:
        self.codes: dict[str, str] = {}
        self._arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's handler hook
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self._arrived:
            self.codes[message["To"]] = re.search(r"^[ \t]+(\d{6})\r?$", message.get_content(), re.M)[1]
            self._arrived.notify_all()
        return "250 OK"

    def code_for(self, address: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while address not in self.codes:
                if not self._arrived.wait(max(0.0, deadline - time.monotonic())):
                    raise AssertionError(f"no sign-in code mailed to {address} within {timeout:g}s")
            return self.codes.pop(address)


class ServerThread:
    """An application served over real HTTP by uvicorn in a thread of this process; its port is known before it starts."""

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


@pytest.fixture
def server_thread() -> type[ServerThread]:
    return ServerThread


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def gateway_env(smtp) -> dict[str, str]:
    """What every service process gets besides its own settings: mail, the operator, rates fit for one test client."""
    return {
        "CIVITAS_SMTP_HOST": "127.0.0.1", "CIVITAS_SMTP_PORT": str(smtp[1]), "CIVITAS_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "CIVITAS_RATE_ADDRESS": "1000000/1min", "CIVITAS_RATE_VOTER": "1000000/1min",
        "CIVITAS_RATE_CODE_ADDRESS": "1000000/1min", "CIVITAS_RATE_CODE_EMAIL": "1000000/1min",
        "CIVITAS_RATE_SESSION_ADDRESS": "1000000/1min",
        "CIVITAS_PUBLISH_WAIT_S": "0.5",  # while the broker restarts, commands answer without waiting long
    }
