"""The maintenance stream folded: which approved requests were begun, finished or cut short (pure).

A request is begun by an event written before its action runs, keyed by (decision record, request path): the
decision to start is taken against this fold under the stream's expected position, so of two deployers, or of a
replay after a restart, only one ever starts it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from civitas_kernel.events import NewEvent
from civitas_schema.v1 import maintenance_pb2

ACTOR = "deployer"  # the site's own deployer runs what the voters decided
MAX_OUTPUT = 16 * 1024
RUNNING, FINISHED, INTERRUPTED = "running", "finished", "interrupted"


@dataclass
class Run:
    decision: int
    proposal: str
    request: str
    action: str
    runs: str
    state: str = RUNNING
    exit_code: int | None = None
    output: str = ""
    took_ms: int = 0

    def as_dict(self) -> dict:
        return {"decision": self.decision, "proposal": self.proposal, "request": self.request, "action": self.action,
                "runs": self.runs, "state": self.state, "exit_code": self.exit_code, "output": self.output,
                "took_ms": self.took_ms}


@dataclass
class MaintenanceJournal:
    runs: dict[tuple[int, str], Run] = field(default_factory=dict)

    def evolve(self, type: str, message, actor: str) -> None:
        if isinstance(message, maintenance_pb2.MaintenanceStarted):
            self.runs[(message.decision, message.request)] = Run(message.decision, message.proposal, message.request,
                                                                 message.action, message.runs)
        elif isinstance(message, maintenance_pb2.MaintenanceFinished):
            run = self.runs.get((message.decision, message.request))
            if run is not None:
                run.state, run.exit_code, run.output, run.took_ms = (FINISHED, message.exit_code, message.output,
                                                                     message.took_ms)
        elif isinstance(message, maintenance_pb2.MaintenanceInterrupted):
            run = self.runs.get((message.decision, message.request))
            if run is not None:
                run.state = INTERRUPTED


def decide_start(journal: MaintenanceJournal, decision: int, proposal: str, content_hash: str, request: str,
                 action: str, runs: str) -> list[NewEvent]:
    """Begin a request once; nothing when it was begun already (by this process or another, now or before)."""
    if (decision, request) in journal.runs:
        return []
    return [NewEvent.of(maintenance_pb2.MaintenanceStarted(decision=decision, proposal=proposal,
                                                           content_hash=content_hash, request=request,
                                                           action=action, runs=runs), ACTOR)]


def decide_finish(journal: MaintenanceJournal, decision: int, request: str, exit_code: int, output: str,
                  took_ms: int) -> list[NewEvent]:
    run = journal.runs.get((decision, request))
    if run is None or run.state != RUNNING:
        return []
    tail = output[-MAX_OUTPUT:]
    return [NewEvent.of(maintenance_pb2.MaintenanceFinished(decision=decision, request=request, exit_code=exit_code,
                                                            output=tail, took_ms=took_ms), ACTOR)]


def decide_interrupted(journal: MaintenanceJournal, mine=lambda runs: True,
                       only: tuple[int, str] | None = None) -> list[NewEvent]:
    """Every run begun and never finished (or the one `only` names): the deployer stopped while it ran. It is not run
    again by itself. mine: whether a run's action (what it runs) is this process's to run (another may be running it
    now)."""
    return [NewEvent.of(maintenance_pb2.MaintenanceInterrupted(decision=r.decision, request=r.request), ACTOR)
            for key, r in journal.runs.items() if r.state == RUNNING and mine(r.runs) and only in (None, key)]
