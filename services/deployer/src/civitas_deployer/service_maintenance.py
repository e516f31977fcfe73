"""What the deployer service runs and owns besides changes, in front of the other services: the voted maintenance
actions (run in its round before it deploys, as the embedded site does) and the lockout stream (the gateways report
the operator's token they refused; the deployer owns the lock-out, so it records them).

Routes: GET /maintenance (the maintenance page's data: actions, requests, runs, the built-ins offered) and
POST /lockout/refusals (a refused attempt, from a gateway only: the call is signed with the site key).
"""

from __future__ import annotations

import asyncio

from fastapi import Depends, FastAPI
from pydantic import BaseModel, Field

from civitas_kernel.commands import CommandError
from civitas_kernel.lockdown_refusals import KINDS, STREAM, RefusedAttempts
from civitas_kernel.service.callers import CallerPass, caller_required

from civitas_deployer.deploying.controls import PAUSE, RESUME, ROLL_BACK, DeploymentControls
from civitas_deployer.gitops import GitOpsSettings, MaintenanceJobs
from civitas_deployer.maintenance import Maintenance
from civitas_deployer.maintenance_sandbox import BUBBLEWRAP


def offered_in_service(deploy_mode: str) -> frozenset[str]:
    """The built-ins the deployer service runs: its own engine's (no compile or vacuum: those are other services'
    databases; no restart: host mode's). On Kubernetes a roll-back is Flux's to make, so only pause and resume."""
    return frozenset({PAUSE, RESUME} if deploy_mode == "kubernetes" else {PAUSE, RESUME, ROLL_BACK})


def service_maintenance(owner, releases, controls: DeploymentControls, offered: frozenset[str],
                        gitops: GitOpsSettings | None = None) -> Maintenance:
    """The maintenance actions over the owner's log and change commands, under its lock, with the offered built-ins;
    a command in bubblewrap, or on Kubernetes (gitops in kubernetes mode) as a Job of its own."""
    builtins = {name: work for name, work in controls.builtins().items() if name in offered}
    sandbox = MaintenanceJobs.of(gitops) if gitops is not None and gitops.DEPLOY_MODE == "kubernetes" else BUBBLEWRAP
    return Maintenance(owner.log, lambda: owner.commands, builtins, sandbox=sandbox, lock=owner.lock,
                       releases=releases)


class Refused(BaseModel):
    """An attempt a gateway refused: what was asked, from where (the token is never sent)."""

    kind: str = Field(max_length=40)
    method: str = Field(max_length=16)
    route: str = Field(max_length=2000)
    client: str = Field(max_length=200)


def lockout_recorder(owner) -> RefusedAttempts:
    """The refused attempts of every gateway, folded here (one event a minute of each kind) into the lockout stream."""

    def append(event) -> None:
        with owner.lock:
            owner.log.append(STREAM, [event])

    return RefusedAttempts(append)


def add_service_maintenance_routes(app: FastAPI, maintenance: Maintenance, offered: frozenset[str],
                                   refusals: RefusedAttempts, callers: CallerPass | None) -> None:
    @app.get("/maintenance")
    async def maintenance_view() -> dict:
        """The actions the verified release defines, the proposals asking for runs, the newest runs, what is offered."""
        return await asyncio.to_thread(maintenance.view, offered)

    @app.post("/lockout/refusals", status_code=202)
    async def refused(body: Refused, caller: str = Depends(caller_required(callers, "gateway"))) -> dict:
        """A gateway refused the operator's token after the lock-out: recorded (at most one event a minute)."""
        if body.kind not in KINDS:
            raise CommandError(f"{body.kind!r} is not a refusal of the lock-out's (it records {', '.join(KINDS)})")
        await asyncio.to_thread(refusals.note, body.kind, body.method, body.route, body.client)
        return {"status": "noted", "by": caller}  # written, or counted in the next event
