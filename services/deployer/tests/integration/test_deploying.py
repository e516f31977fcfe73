"""The deployment engine on real git, a real log and a front page served over real HTTP: an approved decision is
deployed once, a release that fails is rolled back durably, and a HEAD that moved is rebased or refused."""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess

import httpx
import pytest

from civitas_kernel.signing import SiteKey
from civitas_deployer import (
    ChangeCommands, ContentRunner, DecisionRecords, Deployer, DeploymentReads, Mirrors, Releases,
)
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
                              deployments=DeploymentReads(log, Releases(home / "releases", live.git)))
    commands.run = functools.partial(commands.run, local=True)
    return commands


@pytest.fixture
def site_url(server_thread, home):
    server = server_thread()
    with server.serving(front_page(home)) as url:
        yield url


@pytest.fixture
def deployer(change, live, home, site_url, clock) -> Deployer:
    releases = Releases(home / "releases", live.git)
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
    assert os.readlink(home / "releases" / "verified") == commit  # it passed its health window

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
    assert os.readlink(home / "releases" / "verified") == good.commit  # never the failed candidate
    revert = live.head()
    assert revert == bad.revert and git(live, "rev-parse", f"{revert}^") == bad.commit
    assert git(live, "rev-parse", f"{revert}^{{tree}}") == git(live, "rev-parse", f"{good.commit}^{{tree}}")
    assert f"Reverts: {bad.commit}" in git(live, "log", "-1", "--format=%B", revert)
    assert deployer.run() == []  # never retried by itself
    first, second = change.deployments().data["deployments"][1], change.deployments().data["deployments"][0]
    assert first["phase"] == "applied" and second["phase"] == "rolled_back"
    assert second["incident"]["phase"] == "health" and second["revert"] == revert
    assert change.deployments().data["live"]["commit"] == good.commit

    # a retry is a new decision: the change proposed again on the live HEAD (the revert), voted and decided
    approve(change, clone, tmp_path, clock, {"site/front.md": "Welcome back\n"}, "The front page, mended")
    (retried,) = deployer.run()
    assert retried.phase == "applied" and retried.decision == "decision 3" and retried.base == revert
    assert served(site_url) == (200, retried.commit, "<p>Welcome back\n</p>")


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


def test_a_revision_decided_by_rules_changed_since_is_refused(change, deployer, live, clone, tmp_path, clock):
    rules = live.read(live.head(), "governance.toml").decode().replace("review_hours = 48", "review_hours = 47")
    path = patch_file(clone, tmp_path, "rules", {"governance.toml": rules})
    constitutional = change.run(ALICE, ["propose", "--patch", path, "--title", "Shorter review"]).data["proposal"]
    clock.hours(200)  # made later on the same base, so it is decided after the rules' change is deployed
    path = patch_file(clone, tmp_path, "front", {"site/front.md": "Hello\n"})
    front = change.run(ALICE, ["propose", "--patch", path, "--title", "Front page"]).data["proposal"]
    clock.hours(48)
    for pid in (constitutional, front):
        for voter in (BOB, CAROL, DAVE):
            change.run(voter, ["vote", pid, "yes"])
    clock.hours(384 - 248)
    change.decide()
    (applied,) = deployer.run()
    assert applied.phase == "applied" and applied.proposal == constitutional
    clock.hours(416 - 384)
    change.decide()
    (refused,) = deployer.run()
    assert refused.phase == "refused" and refused.proposal == front
    assert "governance.toml changed since its base" in refused.refusal and "needs a new vote" in refused.refusal
    assert live.head() == applied.commit


def test_main_written_outside_civitas_during_a_deployment_is_left_as_it_is(change, deployer, live, clone, tmp_path,
                                                                          clock, site_url):
    approve(change, clone, tmp_path, clock, {"site/front.md": "BROKEN\n"}, "A broken front page")
    outside = {}

    def operator_pushes(phase):  # an operator writes main while the release is being checked
        if phase == "health":
            clone.sync()
            clone.write("notes.md", "by hand\n")
            clone.commit("By hand")
            clone.git("push", "--quiet", "--force", "origin", "HEAD:main")
            outside["commit"] = live.head()

    deployer.hold = operator_pushes
    (failed,) = deployer.run()
    assert failed.phase == "rolled_back" and failed.revert == "" and live.head() == outside["commit"]
    assert served(site_url)[:2] == (200, failed.previous_release)  # the release before still serves


def test_the_mirror_gets_a_release_only_after_its_health_window_passed(change, live, clone, tmp_path, clock, home,
                                                                       site_url):
    mirror = tmp_path / "mirror.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(mirror)], check=True)
    mirrors = Mirrors(live.path, str(mirror), SiteKey.generate(), tmp_path / "mirrors.json", now=clock)
    releases = Releases(home / "releases", live.git)
    runner = ContentRunner(releases, site_url, request_timeout_s=1)
    pushed_at_health = []

    def hold(phase):  # what the mirror, and `verified`, hold while a release is still being checked
        if phase == "health":
            mirrors.push_due()
            pushed_at_health.append((mirror_main(mirror), releases.verified()))

    deployer = Deployer(change.log, live, change.decisions, releases, runner, clock=clock, health_s=2,
                        mirrors=mirrors, hold=hold)
    first = live.head()  # exported as the first release, verified as what serves before any deployment
    approve(change, clone, tmp_path, clock, {"site/front.md": "Welcome\n"}, "Welcome")
    (good,) = deployer.run()
    mirrors.push_due()
    assert pushed_at_health == [(None, first)] and mirror_main(mirror) == good.commit
    tagged = subprocess.run(["git", "--git-dir", str(mirror), "rev-parse", "refs/tags/deployment-1^{commit}"],
                            capture_output=True, text=True).stdout.strip()
    assert tagged == good.commit
    approve(change, clone, tmp_path, clock, {"site/front.md": "BROKEN\n"}, "A broken front page")
    (bad,) = deployer.run()
    mirrors.push_due()
    assert bad.phase == "rolled_back" and pushed_at_health == [(None, first), (good.commit, good.commit)]
    assert mirror_main(mirror) == good.commit  # neither the failed release nor its revert went off-site


def mirror_main(mirror) -> str | None:
    done = subprocess.run(["git", "--git-dir", str(mirror), "rev-parse", "--verify", "--quiet", "refs/heads/main"],
                          capture_output=True, text=True)
    return done.stdout.strip() or None


def test_a_file_an_approved_change_removes_is_gone_from_the_release_that_serves(change, deployer, live, clone, tmp_path,
                                                                                clock, home, site_url):
    approve(change, clone, tmp_path, clock, {"site/front.md": "Hello\n"}, "A front page")
    (added,) = deployer.run()
    clone.sync()
    clone.git("rm", "--quiet", "site/front.md")
    clone.commit("No front page")
    path = tmp_path / "remove.patch"
    path.write_bytes(clone.patch())
    pid = change.run(ALICE, ["propose", "--patch", str(path), "--title", "No front page"]).data["proposal"]
    clock.hours(48)
    for voter in (BOB, CAROL, DAVE):
        change.run(voter, ["vote", pid, "yes"])
    clock.hours(168)
    change.decide()
    (removed,) = deployer.run()
    assert removed.phase == "applied"
    assert not (home / "releases" / removed.commit / "tree" / "site" / "front.md").exists()
    assert (home / "releases" / added.commit / "tree" / "site" / "front.md").exists()  # releases are never modified
    assert served(site_url) == (200, removed.commit, "<p>Welcome (as civitas ships it)</p>")
