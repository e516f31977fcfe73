"""A job run every so often in a thread of its own, until stopped: the counter's compiles, the deployer's decisions."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("civitas.periodic")


class Periodic:
    """Runs `job` after each wait `next_wait()` returns; a failed run is logged and the schedule goes on."""

    def __init__(self, job: Callable[[], object], next_wait: Callable[[], float], *, name: str, every_s: float,
                 join_s: float = 30) -> None:
        self.job, self.next_wait, self.every_s, self.join_s = job, next_wait, every_s, join_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        if self.every_s > 0:  # 0: never
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.join_s)

    def _run(self) -> None:
        while not self._stop.wait(self.next_wait()):
            try:
                self.job()
            except Exception:  # a failed run must not end the schedule; the log says why
                log.exception("%s failed", self._thread.name)
