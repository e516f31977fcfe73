"""Two embedded sites that name each other as peers, each serving its gateway and its move routes over real HTTP,
with one clock the test sets."""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from civitas.moves_routes import moves_router
from civitas.settings import Settings
from civitas.site import Site
from civitas_gateway import AuthSettings, create_app
from civitas_sync import Peer, attach_peer


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000_000_000

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def two_sites(tmp_path, server_thread):
    """(a, b, clock): two sites that name each other as peers, each serving its pages and move routes (site.url)."""
    clock = Clock()
    with ExitStack() as stack:
        sites = {}
        for name in ("a.example", "b.example"):
            home = tmp_path / name
            site = Site(Settings(HOME=home, SITE=name, COMPILE_EVERY_MINUTES=0), clock=clock)
            app = create_app(site, AuthSettings(HOME=home, SITE=name, SMTP_HOST="127.0.0.1", SMTP_PORT=9))
            app.include_router(moves_router(site))
            thread = server_thread()
            site.url = thread.url
            sites[name] = (site, thread, app)
        for name, (site, _, _) in sites.items():
            other = next(s for n, s in sites.items() if n != name)[0]
            attach_peer(site.settings.HOME, name, Peer(other.settings.SITE, "source" if name == "a.example"
                                                       else "peripheral", other.url, other.key.public_key))
        for site, thread, app in sites.values():
            stack.enter_context(thread.serving(app))
        yield sites["a.example"][0], sites["b.example"][0], clock
