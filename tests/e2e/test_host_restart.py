"""The maintenance built-in restart in host mode, as real processes: the voters approve a request to restart the
site; its supervisor starts the serving release again beside itself, health-checks it, switches the public port to
it and stops the old process, once, the outcome recorded as the run's result; the pages answer all along."""

from __future__ import annotations

import time

import httpx
import pytest

from civitas.settings import Settings
from civitas.site import Site

from .deploying_site import SETTINGS, approved_site, wait_for_ended
from .host_site import host_build_cache, processes_of, seed_build_cache, self_governed  # noqa: F401

pytestmark = pytest.mark.slow  # two supervisors, two releases built and started, a restart: about a minute

REQUEST = "maintenance/runs/restart.toml"


def runs_of(home) -> list[dict]:
    site = Site(Settings(HOME=home, **SETTINGS))
    try:
        return site.maintenance.runs()
    finally:
        site.log.engine.dispose()


def test_an_approved_restart_restarts_the_serving_release_once(tmp_path, host_build_cache, self_governed):
    home = tmp_path / "home"
    seed_build_cache(home, host_build_cache)
    self_governed(home).stop()  # the first start commits the source
    (proposal,) = approved_site(home, tmp_path, [("Restart the site", {REQUEST: 'action = "restart"\n'
                                                                                'why = "it is slow"\n'})],
                                SUPERVISED=True)  # proposed through a release's site, which offers restart
    site = self_governed(home)
    deadline = time.monotonic() + 90
    while not any(r["state"] != "running" for r in runs_of(home)):
        assert httpx.get(site.base + "/", timeout=10).status_code == 200  # served all along
        assert site.process.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    (run,) = runs_of(home)
    assert run["action"] == "restart" and run["proposal"] == proposal and run["request"] == REQUEST
    assert run["exit_code"] == 0 and run["state"] == "finished", run
    assert "restarted: pid" in run["output"] and "was stopped" in run["output"]
    wait_for_ended(home, 1, site.process)  # the request's own commit is deployed after it, as any change
    assert httpx.get(site.base + "/", timeout=10).status_code == 200
    site.stop()
    assert processes_of(home) == []

    again = self_governed(home)  # started again: the run is never taken a second time
    time.sleep(2)
    assert [r["state"] for r in runs_of(home)] == ["finished"]
    again.stop()
