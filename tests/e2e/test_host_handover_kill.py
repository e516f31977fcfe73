"""A supervised handover cut by SIGKILL, as real processes: the old supervisor killed once the new one is ready (the
new one takes over when the handover socket closes) or once it said go (the new one serves on the port it was
passed, visitors waiting in its backlog, never refused), and the new one killed holding the lock before it serves
(the old one starts again). Either way one supervisor holds the lock, the public port serves one release, the deployment
is applied, a second `civitas up --self-governed` is refused naming the holder, and a start afterwards serves."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from civitas_deployer import LiveRepository

from .conftest import CIVITAS
from .deploying_site import approved_site, deployments_of, wait_for_file, wait_for_release
from .host_site import (HOST_ENV, Alive, host_build_cache, processes_of, seed_build_cache, self_governed,  # noqa: F401
                        source_file)

pytestmark = pytest.mark.slow  # three supervisors, two releases built and started each: about two minutes each

DEPLOYER_PYPROJECT = "services/deployer/pyproject.toml"


def status(home: Path) -> dict:
    return json.loads((home / "deployer" / "supervisor.json").read_text())


def lock_holder(home: Path) -> int:
    return int((home / "deployer" / "supervisor.lock").read_text())


def supervisors(home: Path) -> list[str]:
    return [p for p in processes_of(home) if "--self-governed" in p]


def a_second_is_refused(home: Path, holder: int) -> None:
    """Another `civitas up --self-governed` on the home exits at once, naming the one that holds the lock."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVITAS_")} | HOST_ENV | {
        "CIVITAS_HOME": str(home), "CIVITAS_SITE": "localhost", "CIVITAS_PORT": "1"}
    done = subprocess.run([CIVITAS, "up", "--self-governed"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and f"another supervisor (pid {holder})" in done.stdout + done.stderr, done


def a_new_version_approved(home: Path, tmp_path: Path, cache: Path, self_governed) -> None:
    """A home whose voters approved a new deployer version (0.1.1), its supervisor not running."""
    seed_build_cache(home, cache)
    self_governed(home).stop()  # the first start commits the source
    bumped = source_file(home, DEPLOYER_PYPROJECT).replace('version = "0.1.0"', 'version = "0.1.1"', 1)
    approved_site(home, tmp_path, [("A new deployer version", {DEPLOYER_PYPROJECT: bumped})], voting_hours=336)


def handing_over(home: Path, tmp_path: Path, cache: Path, self_governed, hold: str):
    """A home whose voters approved a new deployer version, its supervisor running until it holds at `hold`."""
    a_new_version_approved(home, tmp_path, cache, self_governed)
    site = self_governed(home, CIVITAS_DEPLOY_HOLD_AT=hold)
    wait_for_file(home / "releases" / f"held-at-{hold}", site.process, timeout_s=240)
    (deployment,) = deployments_of(home)["deployments"]
    return site, deployment


def stop_all(home: Path, pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 60
    while processes_of(home) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_of(home) == []


def serves_again_after_a_start(home: Path, commit: str, self_governed) -> None:
    again = self_governed(home)  # the operator's start: the one lock is free, the live release serves
    try:
        assert httpx.get(again.base + "/", timeout=10).headers["civitas-release"] == commit
        assert status(home)["pid"] == again.process.pid == lock_holder(home)
    finally:
        again.stop()
    assert processes_of(home) == []


def test_the_old_supervisor_killed_once_the_new_one_is_ready_the_new_one_takes_over(tmp_path, host_build_cache,
                                                                                    self_governed):
    home = tmp_path / "home"
    site, deployment = handing_over(home, tmp_path, host_build_cache, self_governed, "handing_over")
    assert deployment["phase"] == "switching"  # the new supervisor is ready; the proxy has not moved
    (new,) = supervisors(home)  # the old one's command line does not name the home; the new one's does
    commit = deployment["commit"]
    assert f"releases/{commit}/venv/bin/civitas" in new
    site.process.kill()  # SIGKILL: its release dies with it (--die-with-parent), the handover socket closes
    site.process.communicate()
    deadline = time.monotonic() + 120
    while not (home / "deployer" / "supervisor.json").exists() or status(home)["pid"] == site.process.pid:
        assert time.monotonic() < deadline, "the new supervisor did not take over"
        time.sleep(0.2)
    said = status(home)
    try:
        assert said["version"] == "0.1.1" and said["release"] == commit and said["pid"] == lock_holder(home)
        wait_for_release(site.base, commit, Alive(said["pid"]))
        (ended,) = deployments_of(home)["deployments"]  # its recover(): healthy, stopped while switching
        assert ended["phase"] == "applied"
        assert all(commit in p for p in processes_of(home))  # one supervisor, one release: the new ones
        assert len(supervisors(home)) == 1
        a_second_is_refused(home, said["pid"])
    finally:
        stop_all(home, [said["pid"]])
    serves_again_after_a_start(home, commit, self_governed)


def test_the_new_supervisor_killed_holding_the_lock_the_old_one_serves_again(tmp_path, host_build_cache,
                                                                            self_governed):
    home = tmp_path / "home"
    site, _ = handing_over(home, tmp_path, host_build_cache, self_governed, "taking_over")
    new = int((home / "releases" / "held-at-taking_over").read_text())
    assert new != site.process.pid and lock_holder(home) == new  # the old one let go and said go; nothing served
    os.kill(new, signal.SIGKILL)
    deadline = time.monotonic() + 120
    while status(home)["pid"] != site.process.pid or lock_holder(home) != site.process.pid:
        assert site.process.poll() is None and time.monotonic() < deadline, "the old supervisor did not come back"
        time.sleep(0.2)
    (deployment,) = deployments_of(home)["deployments"]
    assert deployment["phase"] == "applied"  # applied before the go: the release stays, under the old supervisor
    commit = deployment["commit"]
    wait_for_release(site.base, commit, site.process)
    assert supervisors(home) == []  # the new one is gone (the old one's command line does not name the home)
    assert processes_of(home) and all(commit in p for p in processes_of(home))  # one release serves
    a_second_is_refused(home, site.process.pid)
    out = site.stop()
    assert "did not take over: it stopped before it served" in out and "this one serves again" in out, out
    assert processes_of(home) == []
    serves_again_after_a_start(home, commit, self_governed)


def test_the_old_supervisor_killed_after_go_the_new_one_serves_on_the_port_it_was_passed(tmp_path, host_build_cache,
                                                                                          self_governed):
    home = tmp_path / "home"
    site, deployment = handing_over(home, tmp_path, host_build_cache, self_governed, "handed_over")
    assert deployment["phase"] == "applied"  # go comes after the round that applied it
    commit = deployment["commit"]
    deadline = time.monotonic() + 60
    while lock_holder(home) == site.process.pid:  # the old one let go before go; the new one takes it
        assert time.monotonic() < deadline, "the new supervisor did not take the lock"
        time.sleep(0.05)
    new = lock_holder(home)
    site.process.kill()  # SIGKILL while the new one starts: its release and its connections go with it
    site.process.communicate()
    try:
        answers = []
        while not (home / "deployer" / "supervisor.json").exists() or status(home)["pid"] != new:
            answer = httpx.get(site.base + "/", timeout=60)  # waits in the backlog until the new one accepts
            answers.append(answer.status_code)
            assert answer.status_code == 200, answers
            assert Alive(new).poll() is None and time.monotonic() < deadline + 120
        assert answers and status(home)["version"] == "0.1.1"  # visitors came while the new one was starting
        assert httpx.get(site.base + "/", timeout=10).headers["civitas-release"] == commit
        assert supervisors(home) and all(commit in p for p in processes_of(home))
        a_second_is_refused(home, new)
    finally:
        stop_all(home, [new])
    serves_again_after_a_start(home, commit, self_governed)


def test_the_new_supervisor_killed_after_it_serves_nothing_is_left_and_a_start_serves_the_release(
        tmp_path, host_build_cache, self_governed):
    home = tmp_path / "home"
    a_new_version_approved(home, tmp_path, host_build_cache, self_governed)
    site = self_governed(home)
    deadline = time.monotonic() + 240
    while status(home)["pid"] == site.process.pid or site.process.poll() is None:  # handed over, the old one gone
        assert time.monotonic() < deadline, deployments_of(home)
        time.sleep(0.2)
    assert site.process.returncode == 0
    new = status(home)["pid"]
    (deployment,) = deployments_of(home)["deployments"]
    commit = deployment["commit"]
    assert deployment["phase"] == "applied" and lock_holder(home) == new
    wait_for_release(site.base, commit, Alive(new))
    os.kill(new, signal.SIGKILL)  # the one supervisor, serving: nothing hands over to anyone
    deadline = time.monotonic() + 30
    while processes_of(home):  # its release goes with it (--die-with-parent), nothing is started in its place
        assert time.monotonic() < deadline, processes_of(home)
        time.sleep(0.2)
    with pytest.raises(httpx.ConnectError):  # the port went with it: refused, not answered by a half supervisor
        httpx.get(site.base + "/", timeout=10)
    assert deployments_of(home)["deployments"] == [deployment]  # nothing in the journal was left in between
    assert LiveRepository(home / "live.git").head() == commit
    a_second = self_governed(home)  # the lock went with the process: the operator's start takes it at once
    try:
        assert httpx.get(a_second.base + "/", timeout=10).headers["civitas-release"] == commit
        assert status(home)["pid"] == a_second.process.pid == lock_holder(home)
        assert deployments_of(home)["deployments"] == [deployment]  # the release is served as applied, not redeployed
    finally:
        a_second.stop()
    assert processes_of(home) == []
