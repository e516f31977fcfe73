"""Letting go of a lock while another site is asked: two sites moving voters to each other at once must not each
hold their own lock while waiting for the other's."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def released(lock: threading.RLock) -> Iterator[None]:
    """Let go of `lock` however often this thread holds it (MoveOptions.outside), and take it back as often after."""
    held = 0
    try:
        while True:
            lock.release()
            held += 1
    except RuntimeError:  # no longer held by this thread
        pass
    try:
        yield
    finally:
        for _ in range(held):
            lock.acquire()
