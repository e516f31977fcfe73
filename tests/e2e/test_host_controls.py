"""Pausing, resuming and rolling back deployments in host mode, as real processes: the voters' requests are taken by
the supervisor, which owns the deployment engine; a pause deploys nothing approved until a resume, which deploys it
all in decision order; a roll-back returns the public port to the release before, with a revert commit; each once."""

from __future__ import annotations

import time

import httpx
import pytest

from civitas.settings import Settings
from civitas.site import Site
from civitas_deployer import LiveRepository

from .deploying_site import SETTINGS, approved_site, deployments_of, wait_for_ended
from .host_site import host_build_cache, polls_heading, processes_of, seed_build_cache, self_governed  # noqa: F401

pytestmark = pytest.mark.slow  # four supervisors, four releases built and started: about two minutes

PAUSE = ("Pause deployments", {"maintenance/runs/pause.toml": 'action = "pause-deployments"\nwhy = "a fair"\n'})
BACK = ("Roll back the greeting", {"maintenance/runs/back.toml": 'action = "roll-back"\nwhy = "too warm"\n'})
RESUME = ("Resume, and a greeting", {"maintenance/runs/resume.toml": 'action = "resume-deployments"\n',
                                     "site/front.md": "Hello, neighbours\n"})
STOP_ONLY = {"review_hours": 0, "voting_hours": 24}


def read(home, what):
    site = Site(Settings(HOME=home, **SETTINGS))
    try:
        return what(site)
    finally:
        site.log.engine.dispose()


def runs_of(home) -> dict[str, dict]:
    return {r["action"]: r for r in read(home, lambda s: s.maintenance.runs())}


def journal(home) -> list[str]:
    return read(home, lambda s: [e.type.rsplit(".", 1)[1] for e in s.log.read("deployment")])


def wait_for_run(home, action: str, process, timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    while (run := runs_of(home).get(action)) is None or run["state"] == "running":
        assert process.poll() is None and time.monotonic() < deadline, runs_of(home)
        time.sleep(0.2)
    return run


def test_a_pause_holds_deployments_a_resume_lets_them_in_and_a_roll_back_serves_the_release_before(
        tmp_path, host_build_cache, self_governed):
    home = tmp_path / "home"
    seed_build_cache(home, host_build_cache)
    self_governed(home).stop()  # the first start commits the source
    repo = LiveRepository(home / "live.git")
    first = repo.head()
    approved_site(home, tmp_path, [PAUSE], SUPERVISED=True, **STOP_ONLY)  # proposed as a release's site takes it
    (later := tmp_path / "later").mkdir()
    (heading,) = approved_site(home, later, [polls_heading(home)], register=False, SUPERVISED=True)

    site = self_governed(home)  # the pause is decision 1, the new heading decision 2
    paused = wait_for_run(home, "pause-deployments", site.process)
    assert paused["exit_code"] == 0 and "deployments are paused" in paused["output"], paused
    time.sleep(3)  # fifteen rounds
    assert deployments_of(home)["deployments"] == []  # nothing approved is deployed while paused
    page = httpx.get(site.base + "/", timeout=10)
    assert page.headers["civitas-release"] == first and "Polls of the town" not in page.text
    site.stop()

    (again := tmp_path / "again").mkdir()
    approved_site(home, again, [RESUME], register=False, SUPERVISED=True)  # it lets code in: the full vote
    site = self_governed(home)
    assert wait_for_run(home, "resume-deployments", site.process)["exit_code"] == 0
    resumed, shown, _ = wait_for_ended(home, 3, site.process, timeout_s=180)  # the pause's file, heading, resume
    assert [d["phase"] for d in (resumed, shown, _)] == ["applied"] * 3 and shown["proposal"] == heading
    page = httpx.get(site.base + "/", timeout=10)
    assert page.headers["civitas-release"] == resumed["commit"]
    assert "Polls of the town" in page.text and "Hello, neighbours" in page.text
    site.stop()

    (back := tmp_path / "back").mkdir()
    approved_site(home, back, [BACK], register=False, SUPERVISED=True, **STOP_ONLY)
    site = self_governed(home)
    seen, deadline = set(), time.monotonic() + 120
    while True:  # a loaded machine may finish it all before the first look: look at least once
        page = httpx.get(site.base + "/", timeout=10)
        assert page.status_code == 200  # served throughout
        if "Hello, neighbours" not in page.text:
            seen.add(page.headers["civitas-release"])
        if len(deployments_of(home)["deployments"]) >= 4 and runs_of(home)["roll-back"]["state"] != "running":
            break
        assert site.process.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    rolled = runs_of(home)["roll-back"]
    assert rolled["exit_code"] == 0 and f"rolled back deployment {resumed['id']}" in rolled["output"], rolled
    assert f"release {shown['commit'][:12]} serves again" in rolled["output"], rolled
    newest, undone, *_ = wait_for_ended(home, 4, site.process, timeout_s=120)  # the roll-back's own file
    assert seen <= {shown["commit"], newest["commit"]}  # without the greeting: the release before, then its follower
    assert undone["phase"] == "reverted" and newest["phase"] == "applied"
    revert = undone["revert"]
    assert repo.git.out("rev-parse", f"{revert}^{{tree}}") == repo.git.out("rev-parse", f"{shown['commit']}^{{tree}}")
    assert repo.git.out("rev-parse", f"{newest['commit']}^1") == revert and repo.head() == newest["commit"]
    page = httpx.get(site.base + "/", timeout=10)
    assert "Polls of the town" in page.text and "Hello, neighbours" not in page.text
    site.stop()
    assert processes_of(home) == []
    kinds = journal(home)
    assert [kinds.count(k) for k in ("DeploymentsPaused", "DeploymentsResumed", "DeploymentReverted")] == [1, 1, 1]
    assert sorted(runs_of(home)) == ["pause-deployments", "resume-deployments", "roll-back"]
