"""Pytest fixtures shared by every service's tests (registered from the repository's conftest.py)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from civitas_kernel.log import EventLog
from civitas_kernel.signing import SiteKey
from civitas_kernel.sql import open_log
from civitas_kernel.testing.postgres import fresh_database, postgres_server

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """One real PostgreSQL server for the whole run (per worker)."""
    with postgres_server() as url:
        yield url


@pytest.fixture
def make_database_url(request, tmp_path) -> Iterator[Callable[[str], str]]:
    """make(backend) -> the URL of a new, empty database on that backend."""
    counter = itertools.count()
    with ExitStack() as stack:

        def make(backend: str) -> str:
            if backend == "sqlite":
                return f"sqlite:///{tmp_path / f'db{next(counter)}.sqlite'}"
            server = request.getfixturevalue("postgres_server_url")
            return stack.enter_context(fresh_database(server))

        yield make


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def make_log(backend, make_database_url) -> Iterator[Callable[..., EventLog]]:
    """make(site=..., key=..., url=...) -> an EventLog on the parametrised backend; a new database unless url given."""
    logs: list[EventLog] = []

    def make(site: str = "alpha.example.org", key: SiteKey | None = None, url: str | None = None) -> EventLog:
        log = open_log(url or make_database_url(backend), site, key or SiteKey.generate())
        logs.append(log)
        return log

    yield make
    for log in logs:
        log.engine.dispose()
