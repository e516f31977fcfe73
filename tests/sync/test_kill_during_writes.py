"""The receiving sync worker killed with SIGKILL again and again while the origin writes: each restart resumes from
its own head, and once the writes stop the heads agree, every event held once and in order."""

from __future__ import annotations

import threading
import time

import pytest

from civitas_kernel.testing.events import trust

from .conftest import wait_until


@pytest.mark.slow
def test_the_sync_worker_killed_repeatedly_during_writes_loses_and_doubles_nothing(sites):
    town, county = sites("town.example"), sites("county.example")
    county.attach(town, "sub")
    town_log = town.open_log()
    town_log.append("trust", [trust(f"t{i}@example.org", "u@example.org") for i in range(15_000)])
    town.serve_sync()
    writing, written = threading.Event(), [15_000]

    def write() -> None:
        while not writing.is_set():
            n = written[0]
            town_log.append("trust", [trust(f"t{i}@example.org", "u@example.org") for i in range(n, n + 300)])
            written[0] += 300
            time.sleep(0.05)

    writer = threading.Thread(target=write)
    writer.start()
    county_log, heads_at_kill, behind = county.open_log(), [], []
    try:
        for pause in (0.2, 0.7, 0.4, 1.0, 0.3):  # killed at various points of its rounds
            county.serve_sync()  # answering: its worker runs
            time.sleep(pause)
            county.process.kill()  # SIGKILL: no cleanup of any kind
            county.process.communicate()
            heads_at_kill.append(county_log.head("trust", site=town.name).seq)
            behind.append(heads_at_kill[-1] < written[0])
    finally:
        writing.set()
        writer.join()
    assert heads_at_kill == sorted(heads_at_kill) and heads_at_kill[-1] > 0  # never back, and it got somewhere
    assert all(behind)  # each kill came while there was more to pull
    county.serve_sync()
    wait_until(lambda: county_log.head("trust", site=town.name).seq == written[0], timeout_s=60, what="convergence")
    assert county_log.head("trust", site=town.name) == town_log.head("trust")
    assert county_log.verify(site=town.name).events == written[0]
