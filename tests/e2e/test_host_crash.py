"""The supervisor of `civitas up --self-governed` killed with SIGKILL during each phase of a code deployment, then
started again: no release process outlives it, and the deployment ends, applied or rolled back, never stuck, with
the matching release serving through the public port and main on the matching commit."""

from __future__ import annotations

import time

import httpx
import pytest

from civitas_deployer import LiveRepository

from .deploying_site import approved_site, deployments_of, wait_for_ended, wait_for_file
from .host_site import (gateway_that_raises, home_with_source, host_build_cache, polls_heading,  # noqa: F401
                        processes_of, self_governed)

pytestmark = pytest.mark.slow  # two supervisors and two or three releases started each


def killed_at(self_governed, home, phase: str):
    """The supervisor held at `phase`, killed there with SIGKILL; its release processes gone; then started again."""
    held = self_governed(home, CIVITAS_DEPLOY_HOLD_AT=phase)
    wait_for_file(home / "releases" / f"held-at-{phase}", held.process, timeout_s=120)
    assert any("bwrap" in p for p in processes_of(home))  # the live release (and any candidate) run, sandboxed
    held.process.kill()  # SIGKILL: nothing of the supervisor runs after this
    held.process.communicate()
    deadline = time.monotonic() + 10
    while processes_of(home) and time.monotonic() < deadline:  # bubblewrap ends each release with its parent
        time.sleep(0.05)
    assert processes_of(home) == [], "a release outlived its supervisor"
    return self_governed(home)


def tree(repo: LiveRepository, commit: str) -> str:
    return repo.git.out("rev-parse", f"{commit}^{{tree}}")


def stopped_cleanly(site, home) -> None:
    site.stop()
    assert processes_of(home) == []


@pytest.mark.parametrize("phase", ["building", "starting", "health"])
def test_killed_before_its_health_passed_a_code_deployment_is_rolled_back(
        tmp_path, host_build_cache, self_governed, phase):
    home, repo = home_with_source(tmp_path, host_build_cache)
    source = repo.head()
    approved_site(home, tmp_path, [polls_heading(home)])

    again = killed_at(self_governed, home, phase)
    (deployment,) = wait_for_ended(home, 1, again.process)
    answer = httpx.get(again.base + "/")
    stopped_cleanly(again, home)

    assert answer.status_code == 200 and answer.headers["civitas-release"] == source
    assert "<h2>Polls</h2>" in answer.text
    assert deployment["phase"] == "rolled_back" and deployment["incident"]["phase"] == phase
    assert f"stopped during {phase}" in deployment["incident"]["reason"]
    assert repo.head() == deployment["revert"] and tree(repo, deployment["revert"]) == tree(repo, source)
    assert deployments_of(home)["live"]["commit"] == source


def test_killed_while_switching_a_healthy_code_deployment_is_applied(tmp_path, host_build_cache, self_governed):
    home, repo = home_with_source(tmp_path, host_build_cache)
    approved_site(home, tmp_path, [polls_heading(home)])

    again = killed_at(self_governed, home, "switching")
    (deployment,) = wait_for_ended(home, 1, again.process)
    answer = httpx.get(again.base + "/")
    stopped_cleanly(again, home)

    assert deployment["phase"] == "applied" and deployment["incident"] is None
    assert answer.headers["civitas-release"] == deployment["commit"] and "<h2>Polls of the town</h2>" in answer.text
    assert repo.head() == deployment["commit"]


def test_killed_while_rolling_back_the_rollback_is_finished_and_the_next_change_deployed(
        tmp_path, host_build_cache, self_governed):
    home, repo = home_with_source(tmp_path, host_build_cache)
    source = repo.head()
    approved_site(home, tmp_path, [gateway_that_raises(home), polls_heading(home)])

    again = killed_at(self_governed, home, "rolling_back")
    newest, failed = wait_for_ended(home, 2, again.process, timeout_s=120)
    answer = httpx.get(again.base + "/")
    stopped_cleanly(again, home)

    assert failed["phase"] == "rolled_back" and failed["incident"]["phase"] == "starting"
    assert "the gateway refuses to start" in failed["incident"]["log_tail"]
    assert tree(repo, failed["revert"]) == tree(repo, source)
    assert newest["phase"] == "applied" and answer.headers["civitas-release"] == newest["commit"]
    assert repo.head() == newest["commit"] and repo.git.out("rev-parse", f"{newest['commit']}^1") == failed["revert"]
