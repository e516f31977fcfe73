"""Deciding on the deployer's own clock: every so often, every proposal whose voting has closed gets its decision.

No jitter, unlike the counter's compiles: a decision depends only on the log up to its close, never on the
moment it is recorded, so nobody gains by knowing when that is.
"""

from __future__ import annotations

from collections.abc import Callable

from civitas_kernel.periodic import Periodic


class DecideScheduler(Periodic):
    """decide() every every_s seconds."""

    def __init__(self, decide: Callable[[], object], every_s: float) -> None:
        super().__init__(decide, lambda: every_s, name="civitas-decide", every_s=every_s, join_s=60)
