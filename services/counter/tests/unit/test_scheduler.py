"""Scheduled compiles come at jittered times, keep going after a failure, and stop when asked."""

from __future__ import annotations

import random
import threading

from civitas_counter.scheduler import CompileScheduler, next_delay


def test_each_wait_moves_by_at_most_the_jitter():
    rng = random.Random(7)
    delays = [next_delay(60, 0.25, rng) for _ in range(1000)]
    assert 45 <= min(delays) < 50 and 70 < max(delays) <= 75
    assert len(set(delays)) > 900  # unpredictable, not a fixed period


def test_compiles_repeat_survive_a_failure_and_stop():
    calls = []
    enough = threading.Event()

    def compile_all():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the first compile fails")
        if len(calls) >= 3:
            enough.set()

    scheduler = CompileScheduler(compile_all, every_s=0.01, jitter=0.5)
    scheduler.start()
    assert enough.wait(5)
    scheduler.stop()
    stopped_at = len(calls)
    enough.wait(0.1)
    assert len(calls) <= stopped_at + 1


def test_no_schedule_when_turned_off():
    scheduler = CompileScheduler(lambda: None, every_s=0)
    scheduler.start()
    assert not scheduler._thread.is_alive()
    scheduler.stop()
