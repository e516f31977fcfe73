"""A voted roll-back past a release that changed the safety kernel, as real processes: the supervisor of that
release (deployer 0.1.1) starts the older release's own supervisor (0.1.0), which says ready before anything is
rolled back; then the roll-back is made (a revert commit on main, the older release live and verified) and the
older supervisor takes over the lock, the public port and the site, the newer one exiting; the front page answers
200 throughout, and the roll-back is journalled and run once."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from civitas_deployer import LiveRepository

from .deploying_site import approved_site, deployments_of, wait_for_ended, wait_for_file, wait_for_release
from .host_site import Alive, host_build_cache, processes_of, seed_build_cache, self_governed, source_file  # noqa: F401
from .test_host_controls import journal, runs_of

pytestmark = pytest.mark.slow  # four supervisors, three releases built and started: about two minutes

DEPLOYER_PYPROJECT = "services/deployer/pyproject.toml"
BACK = ("Roll back the new deployer", {"maintenance/runs/back.toml": 'action = "roll-back"\nwhy = "it misbehaves"\n'})
STOP_ONLY = {"review_hours": 0, "voting_hours": 24}


def status(home: Path) -> dict:
    return json.loads((home / "deployer" / "supervisor.json").read_text())


def lock_holder(home: Path) -> int:
    return int((home / "deployer" / "supervisor.lock").read_text())


def front_page(base: str) -> int | str:
    try:
        return httpx.get(base + "/", timeout=10).status_code
    except httpx.TransportError as error:
        return repr(error)


def handed_over(home: Path, site, timeout_s: float = 240) -> tuple[dict, str]:
    """Until the supervisor `site` handed over and exited, the front page answering 200 meanwhile; what the new
    one says of itself (supervisor.json) and what the old one printed."""
    deadline, answers = time.monotonic() + timeout_s, 0
    while status(home)["pid"] == site.process.pid or site.process.poll() is None:
        assert front_page(site.base) == 200, (answers, deployments_of(home)["deployments"])
        answers += 1
        assert time.monotonic() < deadline, deployments_of(home)
        time.sleep(0.05)
    out, _ = site.process.communicate(timeout=60)
    assert site.process.returncode == 0 and "serves now; this one stops" in out, out
    return status(home), out


def stop(home: Path, pid: int) -> None:
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while processes_of(home) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_of(home) == []


def a_roll_back_asked_of_the_newer_supervisor(home: Path, tmp_path: Path, cache: Path, self_governed,
                                               broken: bool = False, **env: str):
    """The first release (deployer 0.1.0), a new deployer version (0.1.1) deployed and handed over to, then a
    roll-back approved and that version's own supervisor started again (as the handover started it); broken: the
    first release's civitas no longer starts; env: more of that supervisor's environment. The first commit, the
    deployment, the running supervisor."""
    seed_build_cache(home, cache)
    self_governed(home).stop()  # the first start commits the source: the release rolled back to
    first = LiveRepository(home / "live.git").head()
    bumped = source_file(home, DEPLOYER_PYPROJECT).replace('version = "0.1.0"', 'version = "0.1.1"', 1)
    approved_site(home, tmp_path, [("A new deployer version", {DEPLOYER_PYPROJECT: bumped})], voting_hours=336)
    newer, _ = handed_over(home, self_governed(home))
    (applied,) = deployments_of(home)["deployments"]
    assert newer["version"] == "0.1.1" and newer["release"] == applied["commit"]
    stop(home, newer["pid"])
    if broken:  # the older release's environment damaged: its supervisor says why and exits
        launcher = home / "releases" / first / "venv" / "bin" / "civitas"
        launcher.unlink()  # its own file, not the build cache's
        launcher.write_text("#!/bin/sh\necho 'this supervisor cannot start' >&2\nexit 3\n")
        launcher.chmod(0o755)
    (later := tmp_path / "later").mkdir()
    approved_site(home, later, [BACK], register=False, SUPERVISED=True, **STOP_ONLY)
    commit = applied["commit"]
    site = self_governed(home, program=str(home / "releases" / commit / "venv" / "bin" / "civitas"),
                         CIVITAS_SUPERVISOR_RELEASE=commit, **env)
    deadline = time.monotonic() + 30
    while status(home)["pid"] != site.process.pid:  # written just after its port opens
        assert site.process.poll() is None and time.monotonic() < deadline, status(home)
        time.sleep(0.05)
    assert status(home)["version"] == "0.1.1"
    return first, applied, site


def test_a_roll_back_past_a_new_safety_kernel_hands_over_to_the_older_releases_own_supervisor(
        tmp_path, host_build_cache, self_governed):
    home = tmp_path / "home"
    first, applied, site = a_roll_back_asked_of_the_newer_supervisor(home, tmp_path, host_build_cache, self_governed)
    repo = LiveRepository(home / "live.git")
    older, out = handed_over(home, site)
    try:
        assert older["version"] == "0.1.0" and older["release"] == first and older["pid"] == lock_holder(home)
        assert f"release {first[:12]} changes the safety kernel" in out, out
        rolled = runs_of(home)["roll-back"]
        assert rolled["exit_code"] == 0 and f"rolled back deployment {applied['id']}" in rolled["output"], rolled
        assert f"release {first[:12]} serves again" in rolled["output"], rolled
        assert f"its own supervisor (pid {older['pid']}, deployer 0.1.0) was ready" in rolled["output"], rolled
        newest, undone = wait_for_ended(home, 2, Alive(older["pid"]), timeout_s=120)  # the request's own file
        assert undone["phase"] == "reverted" and newest["phase"] == "applied"  # deployed by the older one
        revert = undone["revert"]
        assert repo.git.out("rev-parse", f"{revert}^{{tree}}") == repo.git.out("rev-parse", f"{first}^{{tree}}")
        assert repo.git.out("rev-parse", f"{newest['commit']}^1") == revert and repo.head() == newest["commit"]
        answer = httpx.get(site.base + "/", timeout=10)
        assert answer.status_code == 200 and answer.headers["civitas-release"] == newest["commit"]
        assert b'version = "0.1.0"' in repo.read(newest["commit"], DEPLOYER_PYPROJECT)
        assert status(home)["pid"] == older["pid"]  # the older supervisor serves on: no handover after it
    finally:
        stop(home, older["pid"])
    assert journal(home).count("DeploymentReverted") == 1
    assert sorted(runs_of(home)) == ["roll-back"] and runs_of(home)["roll-back"]["exit_code"] == 0


def test_the_newer_supervisor_killed_once_the_roll_back_is_journalled_the_older_one_finishes_it_and_serves(
        tmp_path, host_build_cache, self_governed):
    home = tmp_path / "home"
    first, applied, site = a_roll_back_asked_of_the_newer_supervisor(home, tmp_path, host_build_cache, self_governed,
                                                                     CIVITAS_DEPLOY_HOLD_AT="reverting")
    wait_for_file(home / "releases" / "held-at-reverting", site.process, timeout_s=120)
    repo = LiveRepository(home / "live.git")
    assert repo.head() == applied["commit"]  # DeploymentReverted written; main and the release not moved yet
    assert len([p for p in processes_of(home) if f"{first}/venv/bin/civitas" in p]) == 1  # the older one, ready
    site.process.kill()  # SIGKILL: no go, no port passed; the handover socket closes
    site.process.communicate()
    deadline = time.monotonic() + 120
    while status(home)["pid"] == site.process.pid:
        assert time.monotonic() < deadline, "the older supervisor did not take over"
        time.sleep(0.2)
    older = status(home)
    try:
        assert older["version"] == "0.1.0" and older["release"] == first and older["pid"] == lock_holder(home)
        newest, undone = wait_for_ended(home, 2, Alive(older["pid"]), timeout_s=120)  # its settle(), then its round
        assert undone["phase"] == "reverted" and newest["phase"] == "applied"
        revert = undone["revert"]
        assert repo.git.out("rev-parse", f"{revert}^{{tree}}") == repo.git.out("rev-parse", f"{first}^{{tree}}")
        assert repo.git.out("rev-parse", f"{newest['commit']}^1") == revert and repo.head() == newest["commit"]
        wait_for_release(site.base, newest["commit"], Alive(older["pid"]))  # it bound the port itself
        assert runs_of(home)["roll-back"]["state"] == "interrupted"  # cut short: recorded so, never run again
        assert len([p for p in processes_of(home) if "--self-governed" in p]) == 1
        assert status(home)["pid"] == older["pid"]  # its kernel is the live one's: no handover after it
    finally:
        stop(home, older["pid"])
    assert journal(home).count("DeploymentReverted") == 1


def test_the_newer_supervisor_killed_before_the_roll_back_is_journalled_its_own_serves_again(
        tmp_path, host_build_cache, self_governed):
    home = tmp_path / "home"
    first, applied, site = a_roll_back_asked_of_the_newer_supervisor(home, tmp_path, host_build_cache, self_governed,
                                                                     CIVITAS_DEPLOY_HOLD_AT="returning")
    wait_for_file(home / "releases" / "held-at-returning", site.process, timeout_s=120)
    repo, commit = LiveRepository(home / "live.git"), applied["commit"]
    assert repo.head() == commit and "DeploymentReverted" not in journal(home)  # the older one ready, nothing else
    site.process.kill()  # SIGKILL: the older one takes over when the socket closes, over the newer live release
    site.process.communicate()
    deadline = time.monotonic() + 240
    while status(home)["pid"] == site.process.pid or status(home)["release"] != commit:
        assert time.monotonic() < deadline, status(home)  # the older one, then the newer release's own again
        time.sleep(0.2)
    newer = status(home)
    try:
        assert newer["version"] == "0.1.1" and newer["pid"] == lock_holder(home)
        deadline = time.monotonic() + 60
        while [p for p in processes_of(home) if f"{first}/venv/bin/civitas" in p]:  # the older one handed over
            assert time.monotonic() < deadline, processes_of(home)
            time.sleep(0.2)
        newest, kept = wait_for_ended(home, 2, Alive(newer["pid"]), timeout_s=120)  # the request's own file
        assert kept["phase"] == "applied" and newest["phase"] == "applied"  # nothing was rolled back
        assert repo.git.out("rev-parse", f"{newest['commit']}^1") == commit and repo.head() == newest["commit"]
        wait_for_release(site.base, newest["commit"], Alive(newer["pid"]))
        assert runs_of(home)["roll-back"]["state"] == "interrupted"  # cut short: recorded so, never run again
        assert len([p for p in processes_of(home) if "--self-governed" in p]) == 1
    finally:
        stop(home, newer["pid"])
    assert "DeploymentReverted" not in journal(home)


def test_a_roll_back_whose_older_supervisor_does_not_start_changes_nothing_and_says_why(
        tmp_path, host_build_cache, self_governed):
    home = tmp_path / "home"
    first, applied, site = a_roll_back_asked_of_the_newer_supervisor(home, tmp_path, host_build_cache, self_governed,
                                                                     broken=True)
    repo = LiveRepository(home / "live.git")
    head, deadline = repo.head(), time.monotonic() + 120
    while (run := runs_of(home).get("roll-back")) is None or run["state"] == "running":
        assert front_page(site.base) == 200 and site.process.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    assert run["exit_code"] == 1, run
    assert f"release {first[:12]} has another safety kernel" in run["output"], run
    assert "exited with 3" in run["output"] and "this supervisor cannot start" in run["output"], run
    assert "nothing was rolled back" in run["output"], run
    assert "DeploymentReverted" not in journal(home)
    newest, kept = wait_for_ended(home, 2, site.process, timeout_s=120)  # the request's file, on the newer release
    assert kept["phase"] == "applied" and newest["phase"] == "applied"
    assert repo.git.out("rev-parse", f"{newest['commit']}^1") == head == applied["commit"]
    answer = httpx.get(site.base + "/", timeout=10)
    assert answer.status_code == 200 and answer.headers["civitas-release"] == newest["commit"]
    assert status(home)["pid"] == site.process.pid == lock_holder(home)  # the newer supervisor serves on
    assert not [p for p in processes_of(home) if f"{first}/venv/bin/civitas" in p]  # the older one is gone
    out = site.stop()
    assert "did not take over" not in out, out
    assert processes_of(home) == []
