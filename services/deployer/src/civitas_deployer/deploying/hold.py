"""A hold for tests that kill the deployer at a chosen phase: CIVITAS_DEPLOY_HOLD_AT=PHASE makes the engine, once
that phase is journalled, write releases/held-at-PHASE and wait there until it is killed. Unset, it does nothing."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

HOLD_ENV = "CIVITAS_DEPLOY_HOLD_AT"
# reverting: a voted roll-back's DeploymentReverted written, main and the release not moved yet (controls.py);
# returning: the supervisor of the release a roll-back returns to ready, nothing written yet (host/supervisor.py);
# handing_over: a new supervisor ready, before the switch; handed_over: the old one has said go (and passed the
# port), serving on; taking_over: the new one holding the lock, before it serves.
HOLDABLE = ("building", "starting", "health", "switching", "rolling_back", "reverting", "returning",
            "handing_over", "handed_over", "taking_over")


def hold_from_env(root: Path) -> Callable[[str], None]:
    wanted = os.environ.get(HOLD_ENV, "")
    if wanted not in HOLDABLE:
        return lambda phase: None

    def hold(phase: str) -> None:
        if phase == wanted:
            root.mkdir(parents=True, exist_ok=True)
            (root / f"held-at-{phase}").write_text(str(os.getpid()))
            threading.Event().wait()  # until SIGKILL

    return hold
