"""Deciding on the deployer's own clock: every so often, every proposal whose voting has closed gets its decision.

No jitter, unlike the counter's compiles: a decision depends only on the log up to its close, never on the
moment it is recorded, so nobody gains by knowing when that is.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("civitas.deployer")


class DecideScheduler:
    def __init__(self, decide: Callable[[], object], every_s: float) -> None:
        self.decide, self.every_s = decide, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="civitas-decide", daemon=True)

    def start(self) -> None:
        if self.every_s > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=60)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.decide()
            except Exception:  # a failed round must not end the schedule; the next one tries again
                log.exception("deciding closed proposals failed")
