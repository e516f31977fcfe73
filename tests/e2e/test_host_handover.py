"""The supervised handover in host mode, as real processes: a change to the deployer's own code is served by a
supervisor built from that release. One whose supervisor crashes at start fails at phase handover and is rolled
back, the old supervisor serving on; one that is good starts a new supervisor (its deployer version visible in
supervisor.json), which takes the lock, the public port and the site's release, and the old supervisor exits."""

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


def front_page(base: str, handing_over: bool) -> int:
    """The front page's status; while the supervisors hand over, a refused connection or a 503 (the port between
    two supervisors, the new one starting the release) is waited through, for at most HANDOVER_GAP_S."""
    deadline = time.monotonic() + HANDOVER_GAP_S
    while True:
        try:
            code = httpx.get(base + "/", timeout=10).status_code
        except httpx.TransportError:
            code = None
        if code == 200 or not handing_over or time.monotonic() > deadline:
            return code
        time.sleep(0.1)


HANDOVER_GAP_S = 30


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

    deadline = time.monotonic() + 240
    while status(home)["pid"] == site.process.pid:  # the failing one first, then the good one's supervisor
        shown = deployments_of(home)["deployments"]
        handing_over = len(shown) == 2 and shown[0]["phase"] in ("switching", "applied")
        assert front_page(site.base, handing_over) == 200, shown
        assert time.monotonic() < deadline, deployments_of(home)
        time.sleep(0.2)
    new = status(home)
    try:
        assert new["version"] == "0.1.1" and new["pid"] != site.process.pid
        out, _ = site.process.communicate(timeout=60)  # the old supervisor exits once the new one serves
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
