"""`civitas up` deploys what its voters approved: proposed, voted and decided, then released, smoke-checked through
its own gateway and served; the decision it deployed still recounts under `civitas audit`."""

from __future__ import annotations

import json
import os
import subprocess

import httpx

from civitas_deployer import LiveRepository

from .conftest import CIVITAS
from .deploying_site import approved_site, deployments_of, wait_for_ended

DEPLOYING = {"CIVITAS_DEPLOY_EVERY_S": "0.2", "CIVITAS_DECIDE_EVERY_S": "0"}


def audit(home, record: int) -> dict:
    archive = home / "records" / "decision" / f"{record:06d}" / "archive.tar"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVITAS_")} | {"CIVITAS_HOME": str(home)}
    done = subprocess.run([CIVITAS, "audit", str(archive), "--json"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def test_an_approved_change_is_deployed_by_civitas_up_and_served(up, tmp_path):
    home = tmp_path / "home"
    (pid,) = approved_site(home, tmp_path, [("A friendlier front page", {"site/front.md": "Hello, neighbours\n"})])
    repo = LiveRepository(home / "live.git")
    first = repo.head()
    site = up(**DEPLOYING)
    (deployment,) = wait_for_ended(home, 1, site.process)
    answer = httpx.get(site.base + "/")
    assert answer.status_code == 200 and answer.headers["civitas-release"] == deployment["commit"]
    out = site.stop()
    assert "approved decisions are deployed every 0.2 s" in out
    assert deployment["phase"] == "applied" and deployment["proposal"] == pid
    assert repo.head() == deployment["commit"] and repo.git.out("rev-parse", f"{deployment['commit']}^1") == first
    assert (home / "releases" / deployment["commit"] / "tree" / "site" / "front.md").read_text() == \
        "Hello, neighbours\n"
    assert deployments_of(home)["live"]["deployment"] == "1"
    assert audit(home, 1)["matches"] is True
