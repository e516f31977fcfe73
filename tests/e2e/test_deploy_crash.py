"""`civitas up` killed with SIGKILL during each phase of a deployment, then started again: every deployment ends
applied or rolled back, with the right release serving and main on the matching commit, never stuck in between."""

from __future__ import annotations

import httpx
import pytest

from civitas_deployer import LiveRepository

from .deploying_site import approved_site, deployments_of, wait_for_ended, wait_for_file

pytestmark = pytest.mark.slow  # two `civitas up` starts each

FRONT = ("A new front page", {"site/front.md": "Hello, neighbours\n"})
UNREADABLE = ("A poll that does not read", {"polls/budget.toml": "title = \n"})
DEPLOYING = {"CIVITAS_DEPLOY_EVERY_S": "0.2", "CIVITAS_DECIDE_EVERY_S": "0"}


def killed_at(up, home, phase: str):
    """`civitas up` held by the deployer at `phase`, killed there with SIGKILL; then started again and answering."""
    held = up(CIVITAS_DEPLOY_HOLD_AT=phase, **DEPLOYING)
    wait_for_file(home / "releases" / f"held-at-{phase}", held.process)
    held.process.kill()  # SIGKILL: nothing of the deployer runs after this
    held.process.communicate()
    return up(**DEPLOYING)  # answers only once the journal's unfinished deployment has ended


def tree(repo: LiveRepository, commit: str) -> str:
    return repo.git.out("rev-parse", f"{commit}^{{tree}}")


@pytest.mark.parametrize("phase", ["building", "starting", "health"])
def test_killed_before_its_health_passed_a_deployment_is_rolled_back_on_restart(up, tmp_path, phase):
    home = tmp_path / "home"
    approved_site(home, tmp_path, [FRONT])
    repo = LiveRepository(home / "live.git")
    first = repo.head()
    again = killed_at(up, home, phase)
    assert httpx.get(again.base + "/").headers["civitas-release"] == first  # the release before serves
    again.stop()
    data = deployments_of(home)
    (deployment,) = data["deployments"]
    assert deployment["phase"] == "rolled_back" and deployment["decision"] == "decision 1"
    assert deployment["incident"]["phase"] == phase
    assert f"stopped during {phase}" in deployment["incident"]["reason"]
    assert repo.head() == deployment["revert"] and tree(repo, deployment["revert"]) == tree(repo, first)
    assert repo.git.out("rev-parse", f"{deployment['revert']}^") == deployment["commit"]  # the revert is recorded
    assert data["live"]["commit"] == first


def test_killed_while_switching_a_healthy_deployment_is_applied_on_restart(up, tmp_path):
    home = tmp_path / "home"
    approved_site(home, tmp_path, [FRONT])
    again = killed_at(up, home, "switching")
    data = deployments_of(home)
    (deployment,) = data["deployments"]
    assert deployment["phase"] == "applied" and deployment["incident"] is None
    assert httpx.get(again.base + "/").headers["civitas-release"] == deployment["commit"]
    again.stop()
    assert LiveRepository(home / "live.git").head() == deployment["commit"]
    assert data["live"] == {"commit": deployment["commit"], "since_us": deployment["ended_us"], "deployment": "1"}


def test_killed_while_rolling_back_the_rollback_is_finished_on_restart(up, tmp_path):
    home = tmp_path / "home"
    approved_site(home, tmp_path, [UNREADABLE, FRONT])
    repo = LiveRepository(home / "live.git")
    first = repo.head()
    again = killed_at(up, home, "rolling_back")
    # the second approved change is deployed after the first was rolled back: nothing dropped, nothing stuck
    newest, failed = wait_for_ended(home, 2, again.process)
    again.stop()
    assert failed["phase"] == "rolled_back" and failed["incident"]["phase"] == "building"
    assert "polls/budget.toml is not TOML" in failed["incident"]["reason"]
    assert tree(repo, failed["revert"]) == tree(repo, first)
    assert newest["phase"] == "applied" and newest["rebased_from"] is not None
    assert repo.head() == newest["commit"] and repo.git.out("rev-parse", f"{newest['commit']}^1") == failed["revert"]
