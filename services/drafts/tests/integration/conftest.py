"""The drafts service as it runs on its own: its app over a real log of record, served over real HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from civitas_kernel.kafka import KafkaSettings
from civitas_kernel.testing.ports import free_port

from civitas_drafts.http import create_drafts_app
from civitas_drafts.settings import DraftsSettings

from ..service import DraftsService


@pytest.fixture
def start_drafts(tmp_path, make_database_url, server_thread) -> Iterator[Callable[..., DraftsService]]:
    """start(backend="sqlite", log_url=None, **settings) -> the drafts service, served until the test ends."""
    with ExitStack() as stack:

        def start(backend: str = "sqlite", log_url: str | None = None, **overrides) -> DraftsService:
            url = log_url or make_database_url(backend)
            settings = DraftsSettings(SERVICE="drafts", HOME=tmp_path, SITE="localhost", LOG_URL=url, PUBLISH_WAIT_S=0,
                                      **overrides)
            app = create_drafts_app(settings, kafka=KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}"))
            own = stack.enter_context(ExitStack())
            return DraftsService(own.enter_context(server_thread().serving(app)), app, url, own.close)

        yield start
