"""The maintenance built-in restart at the host runner, with real releases: the serving release started again
beside itself, switched to after its health window; one that does not come back leaves the old process serving."""

from __future__ import annotations

import pytest

from civitas_deployer.deploying.runner import ReleaseFailed

from .conftest import WINDOW_S


def serving_child(host):
    return host.runner.serving.details["child"]


def test_a_restart_serves_the_same_release_from_a_new_process_and_stops_the_old(host, sources):
    host.deploy(sources.good)
    before = serving_child(host)

    told = host.runner.restart(WINDOW_S)

    after = serving_child(host)
    assert after.process.pid != before.process.pid and after.alive()
    assert after.commit == sources.good and host.releases.live() == sources.good
    assert not before.alive()  # stopped once the new process served
    assert host.get().status_code == 200
    assert f"pid {after.process.pid} serves" in told and f"pid {before.process.pid} was stopped" in told


def test_a_restart_that_does_not_come_back_leaves_the_old_process_serving(host, sources):
    host.deploy(sources.good)
    before = serving_child(host)
    entry = host.releases.root / sources.good / "venv" / "bin" / "civitas"
    shebang = entry.read_text().splitlines()[0]
    entry.unlink()  # a new file, not a write through a hard link into the shared build cache
    entry.write_text(f"{shebang}\nimport sys\nsys.exit('this release cannot start any more')\n")
    entry.chmod(0o755)

    with pytest.raises(ReleaseFailed) as failed:
        host.runner.restart(WINDOW_S)

    assert failed.value.phase == "starting"
    assert f"pid {before.process.pid}) still serves" in str(failed.value)
    assert "cannot start any more" in failed.value.log_tail
    assert serving_child(host) is before and before.alive()
    assert host.get().status_code == 200
    assert list((host.home / "deployer" / "host" / "children").glob("*.json")) == [before.record]


def test_a_restart_with_nothing_serving_starts_nothing(host):
    with pytest.raises(ReleaseFailed, match="no release serves now"):
        host.runner.restart(WINDOW_S)
    assert list((host.home / "deployer" / "host" / "children").glob("*.json")) == []
