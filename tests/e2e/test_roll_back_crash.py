"""A voted roll-back cut short by SIGKILL between its DeploymentReverted and moving main and the release, as a real
`civitas up`: the next start finishes it (main on the revert, the release before serving and verified), writes
nothing twice, and a start after later deployments leaves them as they are."""

from __future__ import annotations

import os

import httpx
import pytest

from civitas.settings import Settings
from civitas.site import Site
from civitas_deployer import LiveRepository

from .deploying_site import SETTINGS, approved_site, deployments_of, wait_for_ended, wait_for_file

pytestmark = pytest.mark.slow  # four `civitas up` starts

DEPLOYING = {"CIVITAS_DEPLOY_EVERY_S": "0.2", "CIVITAS_DECIDE_EVERY_S": "0"}
BACK = ("Roll back the notes", {"maintenance/runs/back.toml": 'action = "roll-back"\nwhy = "the notes are wrong"\n'})


def journal(home) -> list[str]:
    site = Site(Settings(HOME=home, **SETTINGS))
    try:
        return [e.type.rsplit(".", 1)[1] for e in site.log.read("deployment")]
    finally:
        site.log.engine.dispose()


def runs_of(home) -> list[dict]:
    site = Site(Settings(HOME=home, **SETTINGS))
    try:
        return site.maintenance.runs()
    finally:
        site.log.engine.dispose()


def test_a_roll_back_killed_before_its_refs_moved_is_finished_once_at_the_next_start(up, tmp_path):
    home = tmp_path / "home"
    approved_site(home, tmp_path, [("A front page", {"site/front.md": "Hello, neighbours\n"}),
                                   ("Some notes", {"site/notes.md": "Bins on Tuesday\n"})])
    first = up(**DEPLOYING)
    two, one = wait_for_ended(home, 2, first.process)
    first.stop()
    assert [one["phase"], two["phase"]] == ["applied", "applied"]
    (later := tmp_path / "later").mkdir()
    approved_site(home, later, [BACK], review_hours=0, voting_hours=24, register=False)  # stop-only window
    repo = LiveRepository(home / "live.git")

    held = up(CIVITAS_DEPLOY_HOLD_AT="reverting", **DEPLOYING)
    wait_for_file(home / "releases" / "held-at-reverting", held.process)
    held.process.kill()  # SIGKILL with the event written and nothing moved: the cut settle() finishes
    held.process.communicate()
    assert journal(home).count("DeploymentReverted") == 1
    assert repo.head() == two["commit"] and os.readlink(home / "releases" / "live") == two["commit"]
    assert os.readlink(home / "releases" / "verified") == two["commit"]
    (reverted,) = [d for d in deployments_of(home)["deployments"] if d["id"] == two["id"]]
    revert = reverted["revert"]
    assert reverted["phase"] == "reverted" and repo.head() != revert

    again = up(**DEPLOYING)  # answers once recover() and settle() are done
    # the roll-back's own request file is deployed after it, onto the revert commit: main was settled first
    newest, *_ = wait_for_ended(home, 3, again.process)
    assert newest["phase"] == "applied" and newest["proposal"] != one["proposal"]
    assert repo.git.out("rev-parse", f"{newest['commit']}^1") == revert
    assert repo.git.out("rev-parse", f"{revert}^1") == two["commit"]
    assert repo.git.out("rev-parse", f"{revert}^{{tree}}") == repo.git.out("rev-parse", f"{one['commit']}^{{tree}}")
    assert repo.read(newest["commit"], "site/notes.md") is None  # what was rolled back stays rolled back
    served = httpx.get(again.base + "/", timeout=10)
    assert served.headers["civitas-release"] == newest["commit"] and "Hello, neighbours" in served.text
    again.stop()
    (run,) = runs_of(home)
    assert run["action"] == "roll-back" and run["state"] == "interrupted"  # recorded so, never run again

    last = up(**DEPLOYING)  # a start after later deployments: the old roll-back is not done over them
    assert httpx.get(last.base + "/", timeout=10).headers["civitas-release"] == newest["commit"]
    last.stop()
    assert repo.head() == newest["commit"] and os.readlink(home / "releases" / "verified") == newest["commit"]
    assert journal(home).count("DeploymentReverted") == 1 and [r["state"] for r in runs_of(home)] == ["interrupted"]
