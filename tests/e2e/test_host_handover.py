"""The supervised handover in host mode, as real processes: a change to the deployer's own code is served by a
supervisor built from that release. One whose supervisor crashes at start fails at phase handover and is rolled
back, the old supervisor serving on; one that is good starts a new supervisor (its deployer version visible in
supervisor.json), which takes the lock, the public port (its listening socket, passed by the old one) and the site's
release, and the old supervisor exits; the front page answers 200 on every new connection throughout."""

from __future__ import annotations

import json
import os
import signal
import time

import httpx
import pytest

from .deploying_site import approved_site, deployments_of
from .host_site import host_build_cache, processes_of, seed_build_cache, self_governed, source_file  # noqa: F401

pytestmark = pytest.mark.slow  # three supervisors, three releases built and started: about two minutes

DEPLOYER_PYPROJECT = "services/deployer/pyproject.toml"
SUPERVISOR = "services/deployer/src/civitas_deployer/host/supervisor.py"


def status(home) -> dict:
    return json.loads((home / "deployer" / "supervisor.json").read_text())


def front_page(base: str) -> int | str:
    """The front page's status on a new connection (a refused or dropped one: what went wrong)."""
    try:
        return httpx.get(base + "/", timeout=10).status_code
    except httpx.TransportError as error:
        return repr(error)


def test_a_crashing_supervisor_is_rolled_back_and_a_good_one_takes_over(tmp_path, host_build_cache, self_governed):
    home = tmp_path / "home"
    seed_build_cache(home, host_build_cache)
    self_governed(home).stop()  # the first start commits the source
    crashing = source_file(home, SUPERVISOR).replace(
        "        c = self.config\n        bwrap()",
        "        raise RuntimeError('this supervisor refuses to start')\n        c = self.config\n        bwrap()", 1)
    assert "refuses to start" in crashing
    bumped = source_file(home, DEPLOYER_PYPROJECT).replace('version = "0.1.0"', 'version = "0.1.1"', 1)
    assert '"0.1.1"' in bumped
    broken, good = approved_site(home, tmp_path, [("A supervisor that crashes", {SUPERVISOR: crashing}),
                                                  ("A new deployer version", {DEPLOYER_PYPROJECT: bumped})],
                                  voting_hours=336)  # the deployer's code is constitutional
    site = self_governed(home)
    old = status(home)
    assert old["pid"] == site.process.pid and old["version"] == "0.1.0" and old["release"] == ""

    deadline, answers = time.monotonic() + 240, 0
    # the failing one first, then the good one's supervisor; the port handed over, never refusing or a 503
    while status(home)["pid"] == site.process.pid or site.process.poll() is None:
        assert front_page(site.base) == 200, (answers, deployments_of(home)["deployments"])
        answers += 1
        assert time.monotonic() < deadline, deployments_of(home)
        time.sleep(0.05)
    new = status(home)
    try:
        assert new["version"] == "0.1.1" and new["pid"] != site.process.pid
        out, _ = site.process.communicate(timeout=60)  # the old supervisor exited once the new one served
        assert site.process.returncode == 0 and "serves now; this one stops" in out, out
        assert "did not take over" not in out
        answer = httpx.get(site.base + "/", timeout=10)
        assert answer.status_code == 200
        newest, failed = deployments_of(home)["deployments"]  # applied before the old one said go
        assert failed["proposal"] == broken and failed["phase"] == "rolled_back"
        assert failed["incident"]["phase"] == "handover" and "exited" in failed["incident"]["reason"]
        assert "this supervisor refuses to start" in failed["incident"]["log_tail"]
        assert newest["proposal"] == good and newest["phase"] == "applied"
        assert answer.headers["civitas-release"] == newest["commit"] == new["release"]
    finally:
        os.kill(new["pid"], signal.SIGTERM)
        deadline = time.monotonic() + 60
        while processes_of(home) and time.monotonic() < deadline:
            time.sleep(0.2)
    assert processes_of(home) == []  # the new supervisor stopped its release with it
