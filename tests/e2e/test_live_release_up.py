"""A running `civitas up` process and a release laid out beside it as the deployer lays it out: the process serves
the release's pages and brings its polls in within a second, without a restart, and again after one writes
nothing new."""

from __future__ import annotations

import subprocess
import time

import httpx

from civitas_kernel.testing.releases import commit_files, release


def wait_for(check, what: str, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.1)


def test_civitas_up_applies_a_new_release_while_it_runs_and_after_a_restart(up):
    site = up()
    releases = site.home / "releases"
    live = site.home / "live.git"  # made at the first start, and its HEAD exported as the first release
    first = subprocess.run(["git", "--git-dir", str(live), "rev-parse", "main"], capture_output=True, text=True,
                           check=True).stdout.strip()
    assert httpx.get(site.base + "/").headers["civitas-release"] == first
    commit = commit_files(live, {"polls/mayor.toml": 'title = "Who should be mayor?"\n',
                                 "site/front.md": "Welcome to **our** town.\n"})
    release(releases, live, decision="decision 1")
    page = httpx.get(site.base + "/")
    assert page.headers["civitas-release"] == commit and "<strong>our</strong>" in page.text
    wait_for(lambda: httpx.get(site.base + "/api/polls/mayor").status_code == 200, "the release's poll")
    streams = {s["stream"]: s["seq"] for s in httpx.get(site.base + "/api/log/streams").json()}
    assert streams["poll"] == 1
    site.stop()

    again = up()
    assert "by the rules of the live release " + commit in again.stop()
    again = up()
    time.sleep(1.5)
    streams = {s["stream"]: s["seq"] for s in httpx.get(again.base + "/api/log/streams").json()}
    assert streams["poll"] == 1  # a restart brings nothing new in
    again.stop()
