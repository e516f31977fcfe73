"""A live repository and a voter's clone of it, both real git repositories in a temporary directory; voter lists;
logs that seal with the test's clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from civitas_kernel.log import EventLog
from civitas_kernel.signing import SiteKey
from civitas_kernel.sql import create_engine
from civitas_kernel.sql.postgres import PostgresEventLog
from civitas_kernel.sql.sqlite import SQLiteEventLog
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


