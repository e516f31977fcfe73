"""The deployment engine on real git, a real log and a front page served over real HTTP: an approved decision is
deployed once, a release that fails is rolled back durably, and a HEAD that moved is rebased or refused."""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess

import httpx
import pytest

from civitas_deployer import ChangeCommands, ContentRunner, DecisionRecords, Deployer, DeploymentReads, Releases
from civitas_deployer.deploying.placing import DIFF
from civitas_deployer.live_repo import BRANCH

from ..front_page import front_page
from ..sites import ALICE, BOB, CAROL, DAVE, Clock, patch_file


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
    runner = ContentRunner(releases, site_url, request_timeout_s=1)
    return Deployer(change.log, live, change.decisions, releases, runner, clock=clock, health_s=2)


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


def git(live, *args) -> str:
    return live.git.out(*args)


def served(url) -> tuple[int, str, str]:
    answer = httpx.get(url + "/", timeout=10)
    return answer.status_code, answer.headers.get("civitas-release"), answer.text


def test_an_approved_decision_is_deployed_once_on_its_base_and_serves(change, deployer, live, clone, tmp_path, clock,
                                                                       home, site_url):
    base = live.head()
    pid = approve(change, clone, tmp_path, clock, {"site/front.md": "Hello, neighbours\n"}, "A friendlier front page")
    (deployment,) = deployer.run()
    assert deployment.phase == "applied" and deployment.decision == "decision 1"
    commit = live.head()
    assert deployment.commit == commit and git(live, "rev-parse", f"{commit}^1") == base
    revision = change.state.proposals[pid].current
    assert git(live, "rev-parse", f"{commit}^2") == revision.result_commit  # the proposer's commit, merged
    assert git(live, "rev-parse", f"{commit}^{{tree}}") == revision.tree_hash  # exactly what was voted on
    message = git(live, "log", "-1", "--format=%B", commit)
    assert "Approved-by: decision 1" in message and f"Content-hash: {revision.content_hash}" in message
    assert served(site_url) == (200, commit, "<p>Hello, neighbours\n</p>")
    release = home / "releases" / commit
    assert (release / "tree" / "site" / "front.md").read_text() == "Hello, neighbours\n"
    assert os.readlink(home / "releases" / "live") == commit

    # the diff hash is what a voter recomputes with their own git
    diff = subprocess.run(["git", "--git-dir", str(live.path), *DIFF, f"{base}^{{tree}}", f"{commit}^{{tree}}"],
                          capture_output=True, check=True).stdout
    assert deployment.diff_hash == hashlib.sha256(diff).hexdigest()

    assert deployer.run() == []  # exactly once: a second round deploys nothing
    data = change.deployments().data
    assert data["live"] == {"commit": commit, "since_us": deployment.ended_us, "deployment": "1"}
    (shown,) = data["deployments"]
    assert shown["phase"] == "applied" and shown["proposal"] == pid and shown["decision"] == "decision 1"
    assert shown["content_hash"] == revision.content_hash and shown["base"] == base and shown["kind"] == "content"
    assert shown["incident"] is None and shown["rebased_from"] is None and data["mirrors"] == []


def test_a_release_that_fails_its_smoke_request_is_rolled_back_with_a_revert_and_never_retried(
        change, deployer, live, clone, tmp_path, clock, home, site_url):
    approve(change, clone, tmp_path, clock, {"site/front.md": "Welcome\n"}, "Welcome")
    (good,) = deployer.run()
    approve(change, clone, tmp_path, clock, {"site/front.md": "BROKEN\n"}, "A broken front page")
    (bad,) = deployer.run()
    assert bad.phase == "rolled_back" and bad.incident.phase == "health"
    assert "answered 500" in bad.incident.reason and "template failed" in bad.incident.log_tail
    assert served(site_url) == (200, good.commit, "<p>Welcome\n</p>")  # the release before serves
    revert = live.head()
    assert revert == bad.revert and git(live, "rev-parse", f"{revert}^") == bad.commit
    assert git(live, "rev-parse", f"{revert}^{{tree}}") == git(live, "rev-parse", f"{good.commit}^{{tree}}")
    assert f"Reverts: {bad.commit}" in git(live, "log", "-1", "--format=%B", revert)
    assert deployer.run() == []  # never retried by itself
    first, second = change.deployments().data["deployments"][1], change.deployments().data["deployments"][0]
    assert first["phase"] == "applied" and second["phase"] == "rolled_back"
    assert second["incident"]["phase"] == "health" and second["revert"] == revert
    assert change.deployments().data["live"]["commit"] == good.commit


def test_a_build_that_fails_and_a_site_that_hangs_are_each_rolled_back(change, deployer, live, clone, tmp_path, clock,
                                                                       site_url):
    first = live.head()
    approve(change, clone, tmp_path, clock, {"polls/budget.toml": "title = \n"}, "A poll that does not read")
    (unbuildable,) = deployer.run()
    assert unbuildable.phase == "rolled_back" and unbuildable.incident.phase == "building"
    assert "polls/budget.toml is not TOML" in unbuildable.incident.reason
    approve(change, clone, tmp_path, clock, {"site/front.md": "HANG\n"}, "A front page that hangs")
    (hanging,) = deployer.run()
    assert hanging.phase == "rolled_back" and hanging.incident.phase == "health"
    assert "hangs" in hanging.incident.reason
    assert served(site_url)[:2] == (200, first)  # the first release, exported from the live HEAD, serves again


def test_main_that_moved_is_rebased_onto_when_disjoint_and_refused_when_a_path_changed(
        change, deployer, live, clone, tmp_path, clock, site_url):
    base = live.head()
    # three proposals on the same base, decided together
    pids = []
    changes = (("Front page", {"site/front.md": "One\n"}), ("A poll", {"polls/park.toml": "title = 'Park'\n"}),
               ("Front page again", {"site/front.md": "Two\n"}))
    for title, files in changes:
        path = patch_file(clone, tmp_path, title.replace(" ", "-"), files, message=title)
        pids.append(change.run(ALICE, ["propose", "--patch", path, "--title", title]).data["proposal"])
    clock.hours(48)
    for pid in pids:
        for voter in (BOB, CAROL, DAVE):
            change.run(voter, ["vote", pid, "yes"])
    clock.hours(168)
    change.decide()
    front, poll, clash = deployer.run()  # in decision order, none dropped
    assert [d.decision for d in (front, poll, clash)] == ["decision 1", "decision 2", "decision 3"]
    assert front.phase == "applied" and front.rebased_from == ""
    assert poll.phase == "applied" and poll.rebased_from == change.state.proposals[pids[1]].current.result_commit
    assert poll.diff_hash == hashlib.sha256(live.git.run(*DIFF, f"{front.commit}^{{tree}}",
                                                         f"{poll.commit}^{{tree}}").stdout).hexdigest()
    assert live.read(poll.commit, "site/front.md") == b"One\n" and live.read(poll.commit, "polls/park.toml")
    assert clash.phase == "refused" and "site/front.md changed on main since its base" in clash.refusal
    assert "needs a new vote" in clash.refusal
    assert live.head() == poll.commit and git(live, "rev-parse", f"{front.commit}^1") == base
    shown = change.deployments().data["deployments"]
    assert [d["phase"] for d in shown] == ["refused", "applied", "applied"]
    assert shown[1]["rebased_from"] == poll.rebased_from


def test_a_rejected_decision_deploys_nothing(change, deployer, live, clone, tmp_path, clock):
    head = live.head()
    path = patch_file(clone, tmp_path, "no", {"site/front.md": "No\n"})
    pid = change.run(ALICE, ["propose", "--patch", path, "--title", "Nobody wants this"]).data["proposal"]
    clock.hours(48)
    change.run(BOB, ["vote", pid, "no"])
    clock.hours(168)
    (decided,) = change.decide().data
    assert decided["approved"] is False
    assert deployer.run() == [] and live.head() == head
    assert live.git.out("rev-parse", BRANCH) == head
