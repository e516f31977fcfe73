"""A live repository and a voter's clone of it, both real git repositories in a temporary directory; voter lists;
logs that seal with the test's clock."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from civitas_kernel.log import EventLog
from civitas_kernel.signing import SiteKey
from civitas_kernel.sql import create_engine
from civitas_kernel.sql.postgres import PostgresEventLog
from civitas_kernel.sql.sqlite import SQLiteEventLog
from civitas_kernel.testing.ports import free_port
from civitas_deployer.live_repo import LiveRepository

from .git_repos import T0, Clone
from .sites import ALICE, BOB, CAROL, DAVE, EMILY, Clock, Lists


@pytest.fixture
def live(tmp_path) -> LiveRepository:
    return LiveRepository.open_or_create(tmp_path / "live.git", T0)


@pytest.fixture
def clone(live, tmp_path) -> Clone:
    return Clone(live.path, tmp_path / "clone")


@pytest.fixture
def lists() -> Lists:
    lists = Lists()
    lists.report(ALICE, BOB, CAROL, DAVE, EMILY)
    return lists


@pytest.fixture
def make_clocked_log(backend, make_database_url) -> Iterator[Callable[[Clock], EventLog]]:
    """make(clock) -> a log on the parametrised backend that seals events at `clock`'s time, as a site's log seals
    at the site's: a decision takes delegations as recorded before the close."""
    logs: list[EventLog] = []

    def make(clock: Clock) -> EventLog:
        url = make_database_url(backend)
        log_class = SQLiteEventLog if url.startswith("sqlite") else PostgresEventLog
        logs.append(log_class(create_engine(url), "alpha.example.org", SiteKey.generate(), clock=clock))
        return logs[-1]

    yield make
    for log in logs:
        log.engine.dispose()


@pytest.fixture
def git_daemon(tmp_path) -> Iterator[tuple[str, Path]]:
    """(the git:// URL of a folder of bare repositories served by `git daemon` on loopback, that folder)."""
    base, port = tmp_path / "served", free_port()
    base.mkdir()
    daemon = subprocess.Popen(["git", "daemon", "--reuseaddr", f"--base-path={base}", "--export-all",
                               f"--port={port}", "--listen=127.0.0.1", str(base)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert daemon.poll() is None and time.monotonic() < deadline, "git daemon did not start"
                time.sleep(0.05)
        yield f"git://127.0.0.1:{port}", base
    finally:
        daemon.terminate()
        daemon.wait(10)
