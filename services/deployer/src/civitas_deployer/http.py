"""The deployer as a service of its own: the change stream over its own log of record, the live repository, and the
decisions as records under CIVITAS_HOME/records.

Routes: POST /commands (voters' `change` commands in a batch, from the gateway), POST /proposals and
POST /proposals/{id}/revisions (a patch, or a git URL and ref, fetched before the command is decided),
GET /proposals and /proposals/{id} (with its /diff and /graph, the pages' views), GET /delegations/{voter},
POST /decisions (decide what has closed), GET /decisions and
/decisions/{record}/archive (for auditors), GET /deployments (the live release, every deployment, the mirrors);
GET /maintenance and POST /lockout/refusals (service_maintenance.py: the voted maintenance actions it runs in its
round, the refused operator tokens the gateways report); /health, /ready, /streams and /events/STREAM (change,
deployment, maintenance, lockout) come with every owner. Voter lists are the
counter's records (`CIVITAS_COUNTER_URL`). Nothing here approves: a decision is a record compiled from the log, and
the engine deploys only what a decision approved, smoke-checking each release through the gateway
(`CIVITAS_GATEWAY_URL`).
"""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, model_validator

from civitas_kernel.commands import CommandError, NotFoundError, Reply
from civitas_kernel.kafka import KafkaSettings
from civitas_kernel.lockdown_refusals import STREAM as LOCKOUT_STREAM
from civitas_kernel.service.callers import CallerPass
from civitas_kernel.service.calls import ServiceClient
from civitas_kernel.service.owner import Owner, open_owner_log, owner_app, reply_json
from civitas_kernel.service.serve import ServiceEntry
from civitas_kernel.smoke_pass import SmokePass
from civitas_kernel.voter_command import VoterCommand
from civitas_kernel.voter_list import VoterList, decode_voter_list

from civitas_deployer.commands import CHANGE_STREAMS, ChangeCommands
from civitas_deployer.deciding import parse_time
from civitas_deployer.deploying import ContentRunner, Deployer, DeploymentReads, DeployScheduler, Releases
from civitas_deployer.deploying.controls import DeploymentControls
from civitas_deployer.electorates import VoterLists
from civitas_deployer.fetch import Source, fetch_change
from civitas_deployer.gitops import FluxRunner, GitOpsSettings
from civitas_deployer.live_repo import LiveRepository
from civitas_deployer.maintenance import MAINTENANCE_STREAMS
from civitas_deployer.mirror import Mirrors
from civitas_deployer.records import DecisionRecords
from civitas_deployer.scheduler import DecideScheduler
from civitas_deployer.service_maintenance import (add_service_maintenance_routes, lockout_recorder,
                                                   offered_in_service, service_maintenance)
from civitas_deployer.settings import DeployerSettings


def _now_us() -> int:
    return time.time_ns() // 1000


class CounterLists:
    """The counter's voter list records over HTTP: the reported one (its id asked again after `ttl_s`), and any by
    name, each fetched once (records never change)."""

    def __init__(self, counter: ServiceClient, ttl_s: float = 1.0) -> None:
        self.counter, self.ttl_s = counter, ttl_s
        self._lists: dict[int, VoterList] = {}
        self._reported: tuple[float, int | None] = (float("-inf"), None)
        self._lock = threading.Lock()

    def reported(self) -> tuple[str, VoterList] | None:
        with self._lock:
            asked, record_id = self._reported
            if time.monotonic() - asked >= self.ttl_s:
                record_id = self.counter.get("/records/list/reported")["id"]
                self._reported = (time.monotonic(), record_id)
        return None if record_id is None else (f"list {record_id}", self._list(record_id))

    def get(self, name: str) -> VoterList:
        kind, _, number = name.partition(" ")
        if kind != "list" or not number.isdigit():
            raise NotFoundError(f"there is no voter list record {name!r}")
        return self._list(int(number))

    def _list(self, record_id: int) -> VoterList:
        if record_id not in self._lists:
            text = self.counter.get(f"/records/list/{record_id}/result")["result"]
            self._lists[record_id] = decode_voter_list(text.encode())
        return self._lists[record_id]


class NewChange(BaseModel):
    """A change as a patch (`git format-patch` output), or as a ref of a git repository at a URL."""

    voter: str = Field(min_length=3, max_length=254)
    title: str | None = Field(None, max_length=200)  # needed to propose; a revision keeps the title unless given
    patch: str | None = None
    url: str | None = Field(None, max_length=2000)
    ref: str | None = Field(None, max_length=200)
    idempotency_key: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _one_change(self) -> NewChange:
        if (self.patch is None) == (self.url is None) or (self.url is None) != (self.ref is None):
            raise ValueError("give either patch, or url and ref")
        return self


class DecideRequest(BaseModel):
    now: str | None = Field(None, description="decide as of this time (ISO 8601); never later than the clock")


def run_change_command(change: ChangeCommands, command: VoterCommand) -> Reply:
    """`VOTER change ARGS` as the voter shell runs it, from over the network: it names no file of this machine."""
    if command.service != "change":
        raise NotFoundError(f"the deployer runs `change` commands, not {command.service!r}")
    return change.run(command.voter, list(command.args), idempotency_key=command.idempotency_key)


def create_deployer_app(settings: DeployerSettings, kafka: KafkaSettings | None = None,
                        voter_lists: VoterLists | None = None) -> FastAPI:
    """voter_lists: where voter list records come from (default: the counter at CIVITAS_COUNTER_URL)."""
    log = open_owner_log(settings)
    repo = LiveRepository.open_or_create(settings.live_repo_path, _now_us(), max_patch_bytes=settings.MAX_PATCH_BYTES)
    lists = voter_lists or CounterLists(ServiceClient("counter", settings.COUNTER_URL, timeout=settings.CALL_TIMEOUT_S),
                                        settings.REPORTED_TTL_S)
    decisions = DecisionRecords(settings.HOME / "records", log, _now_us)
    releases = Releases(settings.releases_path, repo.git)
    mirrors = Mirrors.of(settings, repo.path, settings.key_file)  # what passed health goes off-site from here
    gitops = GitOpsSettings()
    offered = offered_in_service(gitops.DEPLOY_MODE)
    owner: Owner[ChangeCommands] = Owner(
        "deployer", settings, log, (*CHANGE_STREAMS, "deployment", *MAINTENANCE_STREAMS, LOCKOUT_STREAM),
        lambda: ChangeCommands(log, repo, lists, decisions=decisions, fetch_limits=settings.fetch_limits,
                               deployments=DeploymentReads(log, releases, mirrors), offered_builtins=offered),
        kafka=kafka)
    runner = (FluxRunner.of(gitops, releases, settings.HOME) if gitops.DEPLOY_MODE == "kubernetes"  # Flux runs it
              else ContentRunner(releases, settings.GATEWAY_URL, smoke=SmokePass.of_settings(settings)))
    controls = DeploymentControls(lambda: deployer)
    maintenance = service_maintenance(owner, releases, controls, offered, gitops)  # on Kubernetes: commands as Jobs
    deployer = Deployer(log, repo, decisions, releases, runner, clock=_now_us, health_s=settings.DEPLOY_HEALTH_S,
                        mirrors=mirrors, lock=owner.lock, ready=maintenance.settled)
    # a proposal's patch arrives whole in its JSON, escaped (at most twice its size) with the rest of the body
    uploads = 2 * settings.MAX_PATCH_BYTES + 64 * 1024
    app = owner_app(owner, "civitas deployer (internal)", run_change_command, body_limits={"/proposals": uploads})

    def decide(now_us: int | None = None) -> Reply:
        return owner.commands.decide(now_us, lock=owner.lock)

    refusals = lockout_recorder(owner)
    add_service_maintenance_routes(app, maintenance, offered, refusals, CallerPass.of_settings(settings))
    scheduler = DecideScheduler(decide, settings.DECIDE_EVERY_S)
    # as the embedded site's round: maintenance first, so a pause or a roll-back acts before a later decision deploys
    # on Kubernetes the first round also gives Flux the site's first release, which the first vote needs to be served
    first = getattr(runner, "first_release", lambda: None)
    deploying = DeployScheduler(lambda: (maintenance.run_due(), first(), deployer.run()), settings.DEPLOY_EVERY_S)
    owners_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: FastAPI):
        async with owners_lifespan(app_):
            await asyncio.to_thread(deployer.recover)  # a deployment a stopped deployer left in between ends first
            await asyncio.to_thread(maintenance.recover)  # an action a stop cut short: recorded so, never run again
            await asyncio.to_thread(controls.settle)  # a roll-back a stop left half-way is finished
            await asyncio.to_thread(refusals.resume, log)  # the lock-out's minute holds across a restart
            scheduler.start()
            deploying.start()
            mirrors.start()
            try:
                yield
            finally:
                await asyncio.to_thread(deploying.stop)
                await asyncio.to_thread(mirrors.stop)
                await asyncio.to_thread(scheduler.stop)
                await asyncio.to_thread(refusals.stop)  # the refused attempts counted since the last event

    app.router.lifespan_context = lifespan
    app.state.mirrors = mirrors

    async def change_of(body: NewChange):
        """The patch's bytes, or the change fetched from its URL before any command waits on it."""
        if body.patch is not None:
            return body.patch.encode()
        return await asyncio.to_thread(fetch_change, repo, Source(body.url, body.ref), local=False,
                                       limits=settings.fetch_limits)

    @app.post("/proposals", status_code=201)
    async def propose(body: NewChange) -> dict:
        if not body.title:
            raise CommandError("give the proposal a title")
        change = await change_of(body)
        return reply_json(await owner.run(lambda c: c.propose(body.voter, change, body.title,
                                                              idempotency_key=body.idempotency_key),
                                          alone=body.idempotency_key is not None))

    @app.post("/proposals/{proposal}/revisions", status_code=201)
    async def revise(proposal: str, body: NewChange) -> dict:
        change = await change_of(body)
        return reply_json(await owner.run(lambda c: c.revise(body.voter, proposal, change, body.title,
                                                             idempotency_key=body.idempotency_key),
                                          alone=body.idempotency_key is not None))

    @app.get("/proposals")
    async def list_proposals() -> dict:
        return reply_json(await owner.read(lambda c: c.list_proposals()))

    @app.get("/proposals/{proposal}")
    async def show(proposal: str, voter: str | None = None) -> dict:
        return reply_json(await owner.read(lambda c: c.show(voter, proposal)))

    @app.get("/proposals/{proposal}/diff")
    async def diff(proposal: str, revision: int | None = Query(None, ge=1, le=10_000)) -> dict:
        return reply_json(await owner.read(lambda c: c.diff(proposal, revision)))

    @app.get("/proposals/{proposal}/graph")
    async def graph(proposal: str, voter: str | None = Query(None, max_length=254)) -> dict:
        return reply_json(await owner.read(lambda c: c.graph(proposal, voter)))

    @app.get("/delegations/{voter}")
    async def delegations(voter: str) -> dict:
        return reply_json(await owner.read(lambda c: c.delegations(voter)))

    @app.post("/decisions")
    async def decide_now(body: DecideRequest | None = None) -> dict:
        now = parse_time(body.now) if body and body.now else None
        return reply_json(await asyncio.to_thread(decide, now))

    @app.get("/deployments")
    async def deployments() -> dict:
        """ChangeCommands.deployments()'s data: the live release, the deployments newest first, the mirrors."""
        return (await owner.read(lambda c: c.deployments())).data

    @app.get("/decisions")
    async def list_decisions() -> list[dict]:
        decided = await asyncio.to_thread(decisions.decided)
        return [d.as_dict() for d in sorted(decided.values(), key=lambda d: d.record)]

    @app.get("/decisions/{record}/archive")
    async def archive(record: int) -> FileResponse:
        decided = await asyncio.to_thread(decisions.decided)
        found = next((d for d in decided.values() if d.record == record), None)
        if found is None:
            raise NotFoundError(f"there is no decision {record}; GET /decisions lists them")
        return FileResponse(found.archive, media_type="application/x-tar",
                            filename=f"decision-{record:06d}.tar")

    return app


SERVICE = ServiceEntry("deployer", 8004, DeployerSettings, create_deployer_app)
