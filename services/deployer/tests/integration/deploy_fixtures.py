"""What the engine's tests share: change commands on a clocked log, approved decisions made the voters' way, and a
front page served over real HTTP from the live release (as the gateway serves it), which a change can break."""

from __future__ import annotations

import functools
import time

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route

from civitas_deployer import ChangeCommands, ContentRunner, DecisionRecords, Deployer, DeploymentReads, Releases
from civitas_deployer.deploying.release_header import ReleaseHeader

from ..sites import ALICE, BOB, CAROL, DAVE, Clock, patch_file

HANG_S = 3.0


def front_page(home):
    """GET / renders site/front.md of the live release: 500 when it says BROKEN, a hang when it says HANG."""
    releases = home / "releases"

    def page(request):
        try:
            text = (releases / "live" / "tree" / "site" / "front.md").read_text()
        except FileNotFoundError:
            text = "Welcome (as civitas ships it)"
        if "BROKEN" in text:
            return PlainTextResponse("Traceback: the front page's template failed", status_code=500)
        if "HANG" in text:
            time.sleep(HANG_S)
        return HTMLResponse(f"<p>{text}</p>")

    return ReleaseHeader(Starlette(routes=[Route("/", page)]), home)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


@pytest.fixture
def change(make_clocked_log, live, lists, clock, tmp_path, home) -> ChangeCommands:
    log = make_clocked_log(clock)
    decisions = DecisionRecords(tmp_path / "records", log, clock)
    commands = ChangeCommands(log, live, lists, clock=clock, decisions=decisions,
                              deployments=DeploymentReads(log, Releases(home, live.git)))
    commands.run = functools.partial(commands.run, local=True)
    return commands


@pytest.fixture
def site_url(server_thread, home):
    server = server_thread()
    with server.serving(front_page(home)) as url:
        yield url


@pytest.fixture
def deployer(change, live, home, site_url, clock) -> Deployer:
    releases = Releases(home, live.git)
    return Deployer(change.log, live, change.decisions, releases, ContentRunner(releases, site_url, request_timeout_s=1),
                    clock=clock, health_s=2)


def approve(change, clone, tmp_path, clock, files: dict[str, str], title: str, *, voters=(BOB, CAROL, DAVE),
            decide=True) -> str:
    """A proposal of `files`, voted yes and (decide) decided: approved by a decision record; its id."""
    path = patch_file(clone, tmp_path, title.replace(" ", "-"), files, message=title)
    pid = change.run(ALICE, ["propose", "--patch", path, "--title", title]).data["proposal"]
    clock.hours(48)
    for voter in voters:
        change.run(voter, ["vote", pid, "yes"])
    if decide:
        clock.hours(168)
        change.decide()
    return pid
