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


def civitas(home, *args: str) -> dict:
    """`civitas ARGS --json` on this site's home, as its operator runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVITAS_")} | {"CIVITAS_HOME": str(home)}
    done = subprocess.run([CIVITAS, *args, "--json"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def audit(home, record: int) -> dict:
    return civitas(home, "audit", str(home / "records" / "decision" / f"{record:06d}" / "archive.tar"))


def test_an_approved_change_is_deployed_by_civitas_up_and_served(up, tmp_path):
    home = tmp_path / "home"
    (pid,) = approved_site(home, tmp_path, [("A friendlier front page", {"site/front.md": "Hello, neighbours\n"})])
    repo = LiveRepository(home / "live.git")
    first = repo.head()
    site = up(**DEPLOYING)
    (deployment,) = wait_for_ended(home, 1, site.process)
    answer = httpx.get(site.base + "/")
    assert answer.status_code == 200 and answer.headers["civitas-release"] == deployment["commit"]
    assert "Hello, neighbours" in answer.text and "A self-governing site" not in answer.text  # the voted text
    out = site.stop()
    assert "approved decisions are deployed every 0.2 s" in out
    assert deployment["phase"] == "applied" and deployment["proposal"] == pid
    assert repo.head() == deployment["commit"] and repo.git.out("rev-parse", f"{deployment['commit']}^1") == first
    assert (home / "releases" / deployment["commit"] / "tree" / "site" / "front.md").read_text() == \
        "Hello, neighbours\n"
    assert deployments_of(home)["live"]["deployment"] == "1"
    assert civitas(home, "change", "deployments")["deployments"] == [deployment]
    assert audit(home, 1)["matches"] is True


def test_a_change_that_breaks_the_front_page_is_rolled_back_and_the_old_page_still_served(up, tmp_path):
    home = tmp_path / "home"
    approved_site(home, tmp_path, [("A new look", {"site/templates/home.html": "{% if %}"})])
    repo = LiveRepository(home / "live.git")
    first = repo.head()
    site = up(**DEPLOYING)
    (deployment,) = wait_for_ended(home, 1, site.process)
    answer = httpx.get(site.base + "/")
    site.stop()
    assert answer.status_code == 200 and answer.headers["civitas-release"] == first
    assert "A self-governing site" in answer.text  # the page as it was
    assert deployment["phase"] == "rolled_back" and deployment["decision"] == "decision 1"
    incident = deployment["incident"]
    assert incident["phase"] == "health" and "answered 503" in incident["reason"]
    assert "site/templates/home.html line 1" in incident["log_tail"]  # what the site said, kept with the incident
    revert = repo.head()
    assert revert == deployment["revert"] and repo.git.out("rev-parse", f"{revert}^") == deployment["commit"]
    assert repo.read(revert, "site/templates/home.html") is None  # the revert takes the change out of main
    assert audit(home, 1)["matches"] is True  # the decision it deployed still recounts
