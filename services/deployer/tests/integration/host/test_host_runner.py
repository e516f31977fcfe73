"""The host runner with real releases: the civitas source built offline, run sandboxed beside the serving release,
switched to only after its health window; and real broken releases that never take the serving one's place."""

from __future__ import annotations

import json

import pytest

from civitas_deployer.deploying.runner import ReleaseFailed
from civitas_deployer.host import HostRunner

from .conftest import MIRROR_URL, WINDOW_S


def serving_child(host):
    return host.runner.serving.details["child"]


def test_a_release_serves_after_its_health_window_and_the_one_before_stops(host, sources):
    first = host.deploy(sources.good)
    assert host.get().status_code == 200
    assert host.releases.live() == sources.good

    second = host.deploy(sources.variants["probe"])  # a code change: another release, another process

    assert host.get().status_code == 200
    assert host.releases.live() == sources.variants["probe"]
    assert serving_child(host).port == second.details["port"]
    assert not first.details["child"].alive()  # the release before stopped once the new one served
    assert (host.releases.root / sources.variants["probe"] / "venv" / "built").exists()


def test_code_a_release_brings_cannot_read_the_site_key_or_the_mirrors_credentials(host, sources):
    host.deploy(sources.good)
    host.deploy(sources.variants["probe"])

    seen = json.loads((host.home / "probe.json").read_text())
    assert "PRIVATE KEY" not in seen["key"]  # an empty, unreadable file sits in the key file's place
    assert "PRIVATE KEY" not in (host.home / "probe.json").read_text()
    assert (host.home / "site-key.pem").read_text().startswith("-----BEGIN PRIVATE KEY")  # untouched outside
    assert seen["env"] == []  # CIVITAS_MIRROR_URLS and its credentials are not passed on
    assert "mirror-secret" not in (host.home / "probe.json").read_text() and "mirror-secret" in MIRROR_URL
    assert seen["deployer"] == []  # the deployer's folder is empty in its view
    assert seen["releases"] == sorted([sources.variants["probe"], "live"])  # only its own release
    assert seen["source_visible"] is False  # nor the tree civitas is installed from
    assert seen["uid"] != 0
    assert "only a log checkpoint or a record's manifest" in seen["signer"]  # no SSH signature (a mirror's tag)


@pytest.mark.parametrize(("variant", "phase", "told"), [
    ("pyproject", "building", "pip"),
    ("syntax", "starting", "SyntaxError"),
    ("smoke", "health", "no_such_filter"),
    pytest.param("hang", "starting", "not ready within", marks=pytest.mark.slow),
])
def test_a_broken_release_fails_its_phase_and_the_one_before_keeps_serving(host, sources, variant, phase, told):
    host.deploy(sources.good)
    before = serving_child(host)
    commit = sources.variants[variant]

    with pytest.raises(ReleaseFailed) as failed:
        host.runner.prepare(commit, host.export(commit))
        candidate = host.runner.start(commit)
        try:
            host.runner.check(candidate, WINDOW_S)
        finally:
            host.runner.stop(candidate)  # as the engine stops a candidate that failed

    assert failed.value.phase == phase
    assert told in failed.value.reason + failed.value.log_tail
    assert host.get().status_code == 200  # the release before still serves, alone
    assert serving_child(host) is before and before.alive()
    assert host.releases.live() == sources.good


def test_a_supervisor_started_again_stops_what_the_one_before_left_running(host, sources, tmp_path):
    host.deploy(sources.good)
    left = serving_child(host)

    again = HostRunner(host.home, host.releases, host.proxy, host.home / "deployer" / "key-socket")
    again.recover()

    assert left.process.wait(10) is not None
    assert list((host.home / "deployer" / "host" / "children").glob("*.json")) == []
