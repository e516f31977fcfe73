"""What the deployments page and GET /deployments read: the live release, the deployments newest first, the mirrors."""

from __future__ import annotations

from typing import Any

from civitas_kernel.application import StreamFolder
from civitas_kernel.commands import Reply
from civitas_kernel.log import EventLog

from civitas_deployer.deploying.releases import Releases
from civitas_deployer.domain.deployments import APPLIED_PHASE, DeploymentState

STREAM = "deployment"
MAX_SHOWN = 200  # the newest deployments a read returns


class DeploymentReads:
    def __init__(self, log: EventLog, releases: Releases | None, mirrors: Any = None) -> None:
        self.releases, self.mirrors = releases, mirrors
        self.state = DeploymentState()
        self.folder = StreamFolder(log, (STREAM,), self.state.evolve)

    def live(self) -> dict:
        commit = self.releases.live() if self.releases else None
        applied = [d for d in self.state.deployments.values() if d.phase == APPLIED_PHASE and d.commit == commit]
        if applied:
            return {"commit": commit, "since_us": applied[-1].ended_us, "deployment": applied[-1].id}
        info = self.releases.info(commit) if commit else None
        return {"commit": commit, "since_us": info.get("made_us") if info else None, "deployment": None}

    def reply(self, limit: int = MAX_SHOWN) -> Reply:
        self.folder.catch_up()
        shown = self.state.newest_first(min(max(limit, 1), MAX_SHOWN))
        data = {"live": self.live(), "deployments": [d.as_dict() for d in shown],
                "mirrors": self.mirrors.state() if self.mirrors is not None else []}
        live = data["live"]["commit"]
        lines = [f"live release {live[:12]}" if live else "no release yet: the site serves what civitas ships"]
        for d in shown:
            line = f"deployment {d.id}: proposal {d.proposal} revision {d.revision} ({d.decision}) {d.phase}"
            if d.incident:
                line += f" -- failed at {d.incident.phase}: {d.incident.reason}"
            if d.refusal:
                line += f" -- {d.refusal}"
            lines.append(line)
        return Reply("\n".join(lines), data)
