"""A site home whose voters approved changes by decision records, made in this process with a clock moved past the
voting windows, for a `civitas up` started on it afterwards to deploy; and what that site then says."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from civitas.settings import Settings
from civitas.site import Site

from ..site.change_town import VOTERS, Clock, make_patch

SETTINGS = {"SITE": "localhost", "COMPILE_EVERY_MINUTES": 0, "DECIDE_EVERY_S": 0}


def approved_site(home: Path, tmp_path: Path, changes: list[tuple[str, dict[str, str]]], voting_hours: float = 168,
                  review_hours: float = 48, register: bool = True, **settings) -> list[str]:
    """Each (title, files) proposed by alice on the live HEAD, voted yes by the others and approved; their ids.
    voting_hours, review_hours: the windows waited (336 for a constitutional change; 0 and 24 for a stop-only
    maintenance request); register: the voters registered first (False: a home this made before); settings: more
    of the site's (SUPERVISED=True proposes as a host mode release's site does)."""
    clock = Clock()
    site = Site(Settings(HOME=home, **SETTINGS | settings), clock=clock)
    if register:
        with site.lock:
            for name in VOTERS:
                site.registry.run(f"{name}@example.org",
                                  ["set", "residence", "1", "Elm", "St,", "Springfield", "90210"])
                site.registry.registrar_trust(f"{name}@example.org")
        site.compile("list")
    ids = []
    for number, (title, files) in enumerate(changes):
        patch = tmp_path / f"change-{number}.patch"
        patch.write_bytes(make_patch(site.live_repo.path, tmp_path, files, name=f"change-{number}"))
        reply = site.change.run("alice@example.org", ["propose", "--patch", str(patch), "--title", title], local=True)
        ids.append(reply.data["proposal"])
    clock.hours(review_hours)
    for pid in ids:
        for name in VOTERS[1:]:
            site.change.run(f"{name}@example.org", ["vote", pid, "yes"])
    clock.hours(voting_hours)
    decided = site.decide().data
    assert [d["approved"] for d in decided] == [True] * len(ids)
    site.log.engine.dispose()
    return ids


def deployments_of(home: Path) -> dict:
    """GET /deployments' data, read from the site's log (once its `civitas up` has stopped or while it runs)."""
    site = Site(Settings(HOME=home, **SETTINGS))
    try:
        with site.lock:
            return site.change.deployments().data
    finally:
        site.log.engine.dispose()


def wait_for_ended(home: Path, count: int, process, timeout_s: float = 60) -> list[dict]:
    """The deployments, newest first, once there are `count` and every one has ended; the process must stay alive."""
    deadline = time.monotonic() + timeout_s
    while True:
        shown = deployments_of(home)["deployments"]
        if len(shown) == count and all(d["ended_us"] is not None for d in shown):
            return shown
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, f"{count} deployments did not end within {timeout_s:g} s: {shown}"
        time.sleep(0.1)


def wait_for_file(path: Path, process, timeout_s: float = 60) -> None:
    """Until `path` exists (the deployer writes it when it holds at a phase); the process must stay alive."""
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, f"{path.name} did not appear within {timeout_s:g} s"
        time.sleep(0.05)


def wait_for_release(base: str, commit: str, process, timeout_s: float = 60) -> httpx.Response:
    """GET / until it is served by release `commit`."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer = httpx.get(base + "/", timeout=10)
        if answer.headers.get("civitas-release") == commit:
            return answer
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, f"release {commit} did not serve within {timeout_s:g} s"
        time.sleep(0.1)
