"""Deployments as folded from the deployment stream: what became of each approved decision, phase by phase.

The stream is the deployer's journal: a deployment that has no applied, rolled-back or refused event is one the
deployer was stopped in the middle of, and is finished from what this fold says when it starts again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from civitas_schema.v1 import deployment_pb2

STARTED = deployment_pb2.DeploymentStarted.DESCRIPTOR.full_name
PHASE = deployment_pb2.DeploymentPhase.DESCRIPTOR.full_name
APPLIED = deployment_pb2.DeploymentApplied.DESCRIPTOR.full_name
FAILED = deployment_pb2.DeploymentFailed.DESCRIPTOR.full_name
ROLLED_BACK = deployment_pb2.DeploymentRolledBack.DESCRIPTOR.full_name
REFUSED = deployment_pb2.DeploymentRefused.DESCRIPTOR.full_name
PAUSED = deployment_pb2.DeploymentsPaused.DESCRIPTOR.full_name
RESUMED = deployment_pb2.DeploymentsResumed.DESCRIPTOR.full_name
REVERTED = deployment_pb2.DeploymentReverted.DESCRIPTOR.full_name

BUILDING, STARTING, HEALTH, SWITCHING = "building", "starting", "health", "switching"
APPLIED_PHASE, ROLLED_BACK_PHASE, REFUSED_PHASE = "applied", "rolled_back", "refused"
REVERTED_PHASE = "reverted"  # applied, then rolled back by a decision (the built-in roll-back)
PHASES = (BUILDING, STARTING, HEALTH, SWITCHING)  # in the order a deployment passes them
ENDED = (APPLIED_PHASE, ROLLED_BACK_PHASE, REFUSED_PHASE, REVERTED_PHASE)


def record_name(record: int) -> str:
    """How a deployment names the decision record that approved it."""
    return f"decision {record}"


def control_key(decision: str, request: str) -> str:
    """How a decision's request to pause, resume or roll back is keyed: each is done once."""
    return f"{decision} {request}"


@dataclass(frozen=True)
class Incident:
    phase: str
    reason: str
    log_tail: str
    at_us: int

    def as_dict(self) -> dict:
        return {"phase": self.phase, "reason": self.reason, "log_tail": self.log_tail}


@dataclass
class Deployment:
    id: str
    decision: str
    proposal: str
    revision: int
    content_hash: str
    base: str
    started_us: int
    diff_hash: str = ""
    commit: str = ""
    previous: str = ""
    previous_release: str = ""
    rebased_from: str = ""
    kind: str = "content"
    phase: str = BUILDING
    ended_us: int | None = None
    incident: Incident | None = None
    revert: str = ""
    refusal: str = ""
    reverted_by: str = ""  # the decision that rolled it back, once applied

    @property
    def ended(self) -> bool:
        return self.phase in ENDED

    def as_dict(self) -> dict:
        return {"id": self.id, "proposal": self.proposal, "revision": self.revision, "decision": self.decision,
                "content_hash": self.content_hash, "diff_hash": self.diff_hash or None, "base": self.base,
                "commit": self.commit or None, "kind": self.kind, "phase": self.phase,
                "started_us": self.started_us, "ended_us": self.ended_us,
                "incident": self.incident.as_dict() if self.incident else None,
                "rebased_from": self.rebased_from or None, "revert": self.revert or None,
                "refused": self.refusal or None, "reverted_by": self.reverted_by or None}


@dataclass
class DeploymentState:
    deployments: dict[str, Deployment] = field(default_factory=dict)
    by_decision: dict[str, str] = field(default_factory=dict)  # decision record name -> deployment id
    paused_by: str = ""  # the decision that paused the engine, until one resumes it
    controls: dict[str, str] = field(default_factory=dict)  # (decision, request) said as one key -> what it did
    reverts: list = field(default_factory=list)  # every DeploymentReverted, oldest first

    def evolve(self, event_type: str, m, actor: str = "") -> None:
        if event_type == STARTED:
            self._add(Deployment(m.deployment, m.decision, m.proposal, m.revision, m.content_hash, m.base, m.at_us,
                                 m.diff_hash, m.commit, m.previous, m.previous_release, m.rebased_from, m.kind))
        elif event_type == REFUSED:
            self._add(Deployment(m.deployment, m.decision, m.proposal, m.revision, m.content_hash, m.base, m.at_us,
                                 phase=REFUSED_PHASE, ended_us=m.at_us, refusal=m.reason))
        elif event_type == PHASE:
            self.deployments[m.deployment].phase = m.phase
        elif event_type == APPLIED:
            found = self.deployments[m.deployment]
            found.phase, found.ended_us = APPLIED_PHASE, m.at_us
        elif event_type == FAILED:
            self.deployments[m.deployment].incident = Incident(m.phase, m.reason, m.log_tail, m.at_us)
        elif event_type == ROLLED_BACK:
            found = self.deployments[m.deployment]
            found.phase, found.ended_us, found.revert = ROLLED_BACK_PHASE, m.at_us, m.revert
        elif event_type == PAUSED:
            self.paused_by = m.decision
            self.controls[control_key(m.decision, m.request)] = "paused"
        elif event_type == RESUMED:
            self.paused_by = ""
            self.controls[control_key(m.decision, m.request)] = "resumed"
        elif event_type == REVERTED:
            found = self.deployments[m.deployment]
            found.phase, found.ended_us, found.revert, found.reverted_by = REVERTED_PHASE, m.at_us, m.revert, m.decision
            self.controls[control_key(m.decision, m.request)] = f"reverted {m.deployment}"
            self.reverts.append(m)

    def _add(self, deployment: Deployment) -> None:
        self.deployments[deployment.id] = deployment
        self.by_decision[deployment.decision] = deployment.id

    def next_id(self) -> str:
        return str(len(self.deployments) + 1)

    def unfinished(self) -> list[Deployment]:
        """Deployments begun and not ended: at most one, unless the deployer was stopped in the middle of one."""
        return [d for d in self.deployments.values() if not d.ended]

    def last_applied(self) -> Deployment | None:
        applied = [d for d in self.deployments.values() if d.phase == APPLIED_PHASE]
        return applied[-1] if applied else None

    def newest_first(self, limit: int) -> list[Deployment]:
        return sorted(self.deployments.values(), key=lambda d: int(d.id), reverse=True)[:limit]
