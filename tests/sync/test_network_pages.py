"""The network page in the site's layout, and the voters' pages that show lists and counts saying plainly when the
network may leave voters out of them: a whole embedded site (its gateway) whose peers are real sites serving their
sync pages over HTTP, read in Chromium; and the gateway of the services asking the sync service the same."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from civitas_gateway import AuthSettings, create_app
from civitas_gateway.facade import RemoteSite
from civitas_gateway.network_pages import counting_notices
from civitas_kernel.log import EventLog
from civitas_kernel.service.problems import install_problem_handlers
from civitas_kernel.service.settings import ServiceSettings
from civitas_kernel.signing import SiteKey
from civitas_kernel.sql import open_log
from civitas_kernel.testing.events import trust
from civitas_kernel.testing.ports import free_port
from civitas_kernel.testing.serving import ServerThread
from civitas_sync import Peer, SyncOptions, SyncWorker, attach_peer, detach_peer, sync_router

from civitas.settings import Settings
from civitas.site import Site

TOKEN = "operator-token-for-tests-0123456789"
DEAD = "http://127.0.0.1:9"  # nothing listens there


@dataclass
class Peered:
    name: str
    log: EventLog
    key: SiteKey
    url: str

    def as_peer(self, role: str, url: str | None = None) -> Peer:
        return Peer(self.name, role, url or self.url, self.key.public_key)


@pytest.fixture
def peers(tmp_path):
    """peers(name, key_from=None): a site with its own log serving its sync pages over real HTTP."""
    with ExitStack() as stack:

        def make(name: str, key_from: Peered | None = None, folder: str | None = None) -> Peered:
            home = tmp_path / (folder or name)
            home.mkdir()
            key = key_from.key if key_from else SiteKey.load_or_create(home / "site-key.pem")
            log = open_log(f"sqlite:///{home / 'log.sqlite'}", name, key)
            app = FastAPI()
            install_problem_handlers(app)
            app.include_router(sync_router(lambda: log, home, page_events=100))
            return Peered(name, log, key, stack.enter_context(ServerThread().serving(app)))

        yield make


@pytest.fixture
def county(tmp_path):
    """The embedded site county.example, its gateway served over real HTTP, with a poll to read."""
    home = tmp_path / "county"
    site = Site(Settings(HOME=home, SITE="county.example", COMPILE_EVERY_MINUTES=0))
    app = create_app(site, AuthSettings(HOME=home, SITE="county.example", OPERATOR_TOKEN=TOKEN))
    with ServerThread().serving(app) as base:
        httpx.post(base + "/api/polls", json={"name": "budget", "title": "Budget"},
                   headers={"Authorization": f"Bearer {TOKEN}"}).raise_for_status()
        yield site, base


def registrations(site: Peered, n: int, prefix: str) -> None:
    site.log.append("registration", [trust(f"{prefix}{i}@example.org", "x@example.org") for i in range(n)])
    site.log.append("trust", [trust(f"{prefix}{i}@example.org", "x@example.org") for i in range(n)])


def round_of(site: Site) -> None:
    SyncWorker(site.log, site.settings.HOME, SyncOptions(SYNC_BACKOFF_BASE_S=60)).run_once(force=True)


def test_the_network_page_is_in_the_site_layout_and_the_voters_pages_say_when_voters_may_be_missing(
        county, peers, browser):
    site, base = county
    home = site.settings.HOME
    page = browser.new_page()
    page.goto(base + "/polls/budget")
    page.click("header nav a:has-text('Network')")  # the menu links it
    assert page.url == base + "/network" and page.locator("#no-peers").is_visible()
    assert page.evaluate("getComputedStyle(document.querySelector('header')).borderBottomStyle") == "solid"

    town, village = peers("town.example"), peers("village.example")
    registrations(town, 20, "t")
    registrations(village, 10, "v")
    for peer in (town.as_peer("sub"), village.as_peer("sub")):
        attach_peer(home, site.settings.SITE, peer)
    round_of(site)
    for path in ("/polls/budget", "/polls", "/records"):  # every sender answers and nothing is behind: no notice
        page.goto(base + path)
        assert page.locator("#network-notices").count() == 0, path

    city, impostor = peers("city.example", folder="city"), peers("city.example", folder="impostor")
    registrations(impostor, 5, "c")
    forked = peers("village.example", key_from=village, folder="village-restored")  # the village's key, another past
    forked.log.append("registration", [trust("other@example.org", "x@example.org")])
    detach_peer(home, site.settings.SITE, village.name)
    for peer in (village.as_peer("sub", forked.url), city.as_peer("sub", impostor.url),
                 Peer("news.example", "source", DEAD, SiteKey.load_or_create(home.parent / "news.pem").public_key),
                 Peer("state.example", "super", DEAD, SiteKey.load_or_create(home.parent / "state.pem").public_key)):
        attach_peer(home, site.settings.SITE, peer)
    round_of(site)

    page.goto(base + "/network")
    assert page.locator("header nav a[href='/network']").count() == 1
    assert page.locator("link[rel=stylesheet][href='/static/site.css']").count() == 1
    shown = page.locator("#warnings .warning").all_inner_texts()
    assert any("key mismatch: city.example" in w for w in shown), shown
    assert any("split view: village.example/registration" in w for w in shown), shown
    assert any("state.example does not answer" in w for w in shown), shown
    assert page.locator("#network-picture svg text.lag[data-peer='town.example']").text_content() == "lag 0"
    assert page.locator("#network-picture svg text.lag[data-peer='village.example']").text_content() == "frozen"
    assert page.locator("#network-picture svg text.lag[data-peer='news.example']").text_content() == "unreachable"
    assert page.evaluate("getComputedStyle(document.querySelector(\"text.lag[data-peer='news.example']\")).fill") \
        == "rgb(198, 40, 40)"  # the picture coloured by state through the page's stylesheet (no inline style)
    assert page.locator("#peer-village\\.example .state").inner_text() == "down"
    assert page.locator("#peer-town\\.example .state").inner_text() == "ok"
    row = page.locator("#peer-town\\.example table.streams tr", has_text="town.example/registration")
    assert row.locator("td").all_inner_texts()[:4] == ["town.example/registration", "20", "20", "0"]
    assert page.locator("#evidence tr", has_text="village.example/registration").count() == 1

    for path in ("/polls/budget", "/polls", "/records"):
        page.goto(base + path)
        notice = page.locator("#network-notices").inner_text()
        assert "may be missing voters" in notice, path
        assert "city.example answers with another key" in notice
        assert "village.example showed two different versions of its registration events" in notice
        assert "news.example has not answered yet" in notice
        assert "state.example" not in notice and "town.example" not in notice  # a super-site's lag changes no count
    page.click("#network-notices a:has-text('the site network')")
    assert page.url == base + "/network"


def test_the_gateway_of_the_services_asks_the_sync_service_and_says_so_when_it_does_not_answer(peers, tmp_path):
    town = peers("town.example")
    registrations(town, 3, "t")
    home = tmp_path / "county-sync"
    key = SiteKey.load_or_create(home / "site-key.pem")
    log = open_log(f"sqlite:///{home / 'log.sqlite'}", "county.example", key)
    attach_peer(home, "county.example", town.as_peer("sub"))
    attach_peer(home, "county.example", Peer("news.example", "source", DEAD,
                                             SiteKey.load_or_create(tmp_path / "news.pem").public_key))
    SyncWorker(log, home, SyncOptions(SYNC_BACKOFF_BASE_S=60)).run_once(force=True)
    app = FastAPI()
    app.include_router(sync_router(lambda: log, home))
    with ServerThread().serving(app) as sync_url:
        remote = RemoteSite(ServiceSettings(SITE="county.example", SYNC_URL=sync_url))
        assert counting_notices(remote) == ["news.example has not answered yet: its voters are not in the lists and "
                                            "counts here."]
        view = remote.network(picture=True)
        assert sorted(p["site"] for p in view["peers"]) == ["news.example", "town.example"]
        assert view["picture"].startswith("<svg")
    assert counting_notices(RemoteSite(ServiceSettings(SITE="county.example"))) == []  # no sync service: no network
    gone = RemoteSite(ServiceSettings(SITE="county.example", SYNC_URL=f"http://127.0.0.1:{free_port()}"))
    [notice] = counting_notices(gone)
    assert notice.startswith("This site cannot tell now whether its lists and counts hold every voter") \
        and "the sync service is not available" in notice
