"""Sites in this process, each with its own SQLite log and key, serving their sync pages over real HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI

from civitas_kernel.log import EventLog
from civitas_kernel.service.problems import install_problem_handlers
from civitas_kernel.signing import SiteKey
from civitas_kernel.sql import open_log

from civitas_sync.domain.peers import Peer
from civitas_sync.http import sync_router
from civitas_sync.settings import SyncOptions
from civitas_sync.worker import SyncWorker

PAGE = 100  # small pages, so a few hundred events span several


@dataclass
class TestSite:
    name: str
    home: Path
    log: EventLog
    key: SiteKey
    url: str | None = None
    worker: SyncWorker | None = None

    def as_peer(self, role: str, url: str | None = None) -> Peer:
        return Peer(self.name, role, url or self.url, self.key.public_key)


@pytest.fixture
def make_site(tmp_path, server_thread) -> Iterator[Callable[..., TestSite]]:
    """make_site(name, serve=True, key_from=None, rules=None): a site; serving its sync pages (and its list rules,
    rules() if given) unless serve=False."""
    with ExitStack() as stack:

        def make(name: str, serve: bool = True, key_from: TestSite | None = None, folder: str | None = None,
                 worker: SyncOptions | None = None, rules: Callable[[], dict] | None = None) -> TestSite:
            home = tmp_path / (folder or name)
            home.mkdir()
            key = key_from.key if key_from else SiteKey.load_or_create(home / "site-key.pem")
            log = open_log(f"sqlite:///{home / 'log.sqlite'}", name, key)
            site = TestSite(name, home, log, key)
            if worker is not None:  # a sync worker running on the site's log, as `civitas up` runs one
                site.worker = SyncWorker(log, home, worker)
                site.worker.start()
                stack.callback(site.worker.stop)
            if serve:
                app = FastAPI()
                install_problem_handlers(app)
                app.include_router(sync_router(lambda: log, home, page_events=PAGE,
                                               prompt=site.worker.prompt if site.worker else None, rules=rules))
                site.url = stack.enter_context(server_thread().serving(app))
            return site

        yield make
