"""An application served over real HTTP by uvicorn in a thread of the test process (fixture server_thread)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn

from civitas_kernel.service.server import ServerLimits, server_config
from civitas_kernel.testing.ports import free_port


class ServerThread:
    """An application served over real HTTP by uvicorn in a thread of this process, as civitas serves it (server.py,
    limits from the environment unless given); its URL is known before it starts."""

    def __init__(self, limits: ServerLimits | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.limits = limits

    @contextmanager
    def serving(self, app, start_timeout_s: float = 30) -> Iterator[str]:
        """Serve app until the block ends; its startup (lifespan) may take up to start_timeout_s."""
        server = uvicorn.Server(server_config(app, host="127.0.0.1", port=self.port, limits=self.limits,
                                              log_level="warning"))
        thread = threading.Thread(target=server.run, name=f"uvicorn-{self.port}", daemon=True)
        thread.start()
        deadline = time.monotonic() + start_timeout_s
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
