"""Deploying on the deployer's own clock: every so often, whatever was approved and not yet deployed is deployed."""

from __future__ import annotations

from collections.abc import Callable

from civitas_kernel.periodic import Periodic


class DeployScheduler(Periodic):
    """deploy() every every_s seconds; a deployment runs to its end before the next round begins."""

    def __init__(self, deploy: Callable[[], object], every_s: float) -> None:
        super().__init__(deploy, lambda: every_s, name="civitas-deploy", every_s=every_s, join_s=120)
