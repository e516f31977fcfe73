"""One supervisor per home, with real processes: a second is refused, naming the one that serves, until the first
ends, however it ends (SIGKILL included)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from civitas_deployer.host.tenure import AnotherSupervisor, Tenure

HOLD = ("import sys, time; from civitas_deployer.host.tenure import Tenure; Tenure(sys.argv[1]).take(); "
        "print('held', flush=True); time.sleep(60)")


def holder(path):
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_second_supervisor_is_refused_while_one_serves_and_takes_over_once_it_is_killed(tmp_path):
    path = tmp_path / "deployer" / "supervisor.lock"
    path.parent.mkdir()
    first = holder(path)
    try:
        with pytest.raises(AnotherSupervisor, match=f"pid {first.pid}"):
            Tenure(path).take()
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        second = Tenure(path)
        second.take()  # the kernel let go of the killed one's lock
        assert path.read_text().strip() == str(os.getpid())
        refused = subprocess.run([sys.executable, "-c", HOLD, str(path)], capture_output=True, text=True, timeout=30)
        assert refused.returncode != 0 and f"another supervisor (pid {os.getpid()})" in refused.stderr
        second.release()
    finally:
        first.kill()
        first.wait()


def test_a_supervisor_waiting_to_take_over_takes_the_home_when_the_one_before_lets_go(tmp_path):
    path = tmp_path / "supervisor.lock"
    first = holder(path)
    started = time.monotonic()
    subprocess.Popen(["sh", "-c", f"sleep 1; kill -TERM {first.pid}"])
    Tenure(path).take(wait_s=20)  # as a new supervisor takes the home at a handover
    assert 0.5 < time.monotonic() - started < 20
    assert first.wait(10) == -signal.SIGTERM
