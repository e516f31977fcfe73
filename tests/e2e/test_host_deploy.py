"""`civitas up --self-governed` deploys code changes its voters approved, as real processes: on a fresh home it
commits the civitas source to the live repository and serves it; a change whose gateway raises at start is built,
started beside the live release, fails, and is rolled back (the old pages still served through the public port,
main on a revert commit, the incident with the release's own words); a good code change is then served."""

from __future__ import annotations

import httpx
import pytest

from civitas_deployer import LiveRepository

from .deploying_site import approved_site, deployments_of, wait_for_ended
from .host_site import (gateway_that_raises, host_build_cache, polls_heading, processes_of,  # noqa: F401
                        seed_build_cache, self_governed)

pytestmark = pytest.mark.slow  # two supervisors, three releases built and started: about a minute


def tree(repo: LiveRepository, commit: str) -> str:
    return repo.git.out("rev-parse", f"{commit}^{{tree}}")


def ended(home, count: int) -> bool:
    shown = deployments_of(home)["deployments"]
    return len(shown) == count and all(d["ended_us"] is not None for d in shown)


def test_a_failing_code_change_is_rolled_back_and_a_good_one_served(tmp_path, host_build_cache, self_governed):
    home = tmp_path / "home"
    seed_build_cache(home, host_build_cache)
    first_start = self_governed(home)
    repo = LiveRepository(home / "live.git")
    source = repo.head()
    assert repo.read(source, "services/gateway/pyproject.toml") is not None  # the site's code is in its repository
    before = httpx.get(first_start.base + "/")
    assert before.status_code == 200 and before.headers["civitas-release"] == source
    assert "<h2>Polls</h2>" in before.text
    assert "committed the civitas source to the live repository" in first_start.stop()

    broken, good = approved_site(home, tmp_path, [gateway_that_raises(home), polls_heading(home)])
    site = self_governed(home)
    served = set()
    while not ended(home, 2):  # through the public port all along: never an error, never the failing release
        answer = httpx.get(site.base + "/", timeout=10)
        assert answer.status_code == 200, answer.text
        served.add(answer.headers["civitas-release"])
        assert site.process.poll() is None
    newest, failed = wait_for_ended(home, 2, site.process)
    assert served <= {source, newest["commit"]}

    answer = httpx.get(site.base + "/")
    assert answer.status_code == 200 and answer.headers["civitas-release"] == newest["commit"]
    assert "<h2>Polls of the town</h2>" in answer.text  # the voted code serves
    out = site.stop()
    assert processes_of(home) == []  # the supervisor stopped its release's process with it

    assert failed["proposal"] == broken and failed["phase"] == "rolled_back" and failed["kind"] == "code"
    incident = failed["incident"]
    assert incident["phase"] == "starting" and "exited" in incident["reason"]
    assert "the gateway refuses to start" in incident["log_tail"]  # what the release wrote, kept with the incident
    assert tree(repo, failed["revert"]) == tree(repo, source)  # main went back to the code that served
    assert repo.git.out("rev-parse", f"{failed['revert']}^") == failed["commit"]
    assert newest["proposal"] == good and newest["phase"] == "applied" and newest["incident"] is None
    assert repo.head() == newest["commit"] and repo.git.out("rev-parse", f"{newest['commit']}^1") == failed["revert"]
    assert "health-checked for 2 s" in out
