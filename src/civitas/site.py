"""The composition root of the embedded site: one process, one SQLite log, every service."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

from civitas_counter import CountResult, parse_count, record_store
from civitas_deployer import (
    DEPLOYMENT_CONTROLS, SUPERVISOR_BUILTINS, ChangeCommands, ContentRunner, DecisionRecords, Deployer,
    DeploymentControls, DeploymentReads, LiveRepository, Maintenance, Mirrors, Releases, Runner,
)
from civitas_drafts import DraftCommands, DraftReads
from civitas_kernel import telemetry
from civitas_kernel.application import PendingWrites
from civitas_kernel.commands import NotFoundError, Reply
from civitas_kernel.events import NewEvent
from civitas_kernel.log import EventLog
from civitas_kernel.records import RecordStore
from civitas_kernel.service.writer import GroupWriter
from civitas_kernel.signing import SiteKey
from civitas_kernel.site_rules import RulesInForce, SiteRules
from civitas_kernel.smoke_pass import SmokePass
from civitas_kernel.sql import open_log
from civitas_kernel.voter_command import VoterCommand
from civitas_kernel.voter_list import VoterList, decode_voter_list
from civitas_polls import PollCommands, ReleasePolls
from civitas_registry import KnownSites, ListConfig, MoveOptions, RegistryCommands, list_config_of, released
from civitas_schema.v1 import draft_pb2

from civitas.settings import Settings


def now_us() -> int:
    return time.time_ns() // 1000


@dataclass
class Site:
    settings: Settings
    clock: callable = field(default=now_us)

    @cached_property
    def key(self) -> SiteKey:
        if self.settings.SIGNER_SOCKET is not None:  # host mode: the key stays with the supervisor
            from civitas_kernel.key_socket import socket_site_key

            return socket_site_key(self.settings.SIGNER_SOCKET)
        return SiteKey.load_or_create(self.settings.key_path)

    @cached_property
    def log(self) -> EventLog:
        return open_log(self.settings.log_url, self.settings.SITE, self.key)

    @cached_property
    def rules(self) -> RulesInForce:
        """The site's rules and registrars in force: the live release's files, else the settings (ask at each use)."""
        return RulesInForce(self.settings.releases_path, SiteRules.from_settings(self.settings))

    @property
    def list_config(self) -> ListConfig:
        return list_config_of(self.rules())

    @cached_property
    def records(self) -> RecordStore:
        from civitas_registry import fork_parent_of
        from civitas_sync import held_rules  # the origins' list rules, as received with their streams

        def fork_parent() -> set[str]:  # a fork holds its parent's streams as evidence: its voters count once confirmed
            parent = fork_parent_of(self.log)
            return {parent} if parent else set()

        return record_store(self.settings.HOME, self.log, lambda: self.list_config, clock=self.clock,
                            rules_of=held_rules(self.settings.HOME), leaves_out=fork_parent)

    _parsed: dict = field(default_factory=dict, repr=False)
    # Commands fold into in-memory state; one at a time keeps each decision on a settled state.
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @contextmanager
    def batch(self) -> Iterator[PendingWrites]:
        """Commands inside see each other's events at once; all are written together when it ends.

        If the write fails (another writer moved a stream), the folded state no longer matches the
        log, so it is dropped and rebuilt from the log on next use.
        """
        with self.lock:
            pending = PendingWrites(self.log)
            folders = [self.registry.folder, self.polls.folder, self.drafts.folder]
            if "change" in self.__dict__:  # once made: a site that never sees a change command needs no git
                folders.append(self.change.folder)
            for folder in folders:
                folder.pending = pending
            try:
                yield pending
                for folder in folders:
                    folder.pending = None
                pending.flush()
            except BaseException:
                for name in ("registry", "polls", "change", "drafts"):
                    self.__dict__.pop(name, None)
                raise
            finally:
                for folder in folders:
                    folder.pending = None

    @cached_property
    def writer(self) -> GroupWriter:
        return GroupWriter(self)

    async def submit(self, command: VoterCommand) -> Reply:
        """Run a voter's command with others arriving at the same time, in one transaction (GroupWriter)."""
        with telemetry.instruments().command_timer(command.verb):
            return await asyncio.wrap_future(self.writer.submit(lambda: dispatch(self, command), alone=command.alone))

    def compile(self, kind: str):
        """Snap, ready, mount and report a new record of `kind`, unmounting the one reported before."""
        with self.lock:
            return self.records.run(kind)

    def has_polls(self) -> bool:
        with self.lock:
            self.polls.catch_up()
            return bool(self.polls.state.polls)

    def _reported(self, kind: str, parse):
        record_id = self.records.reported_id(kind)
        if record_id is None:
            return None
        if (kind, record_id) not in self._parsed:  # records never change, so parse each once
            self._parsed[(kind, record_id)] = parse(self.records.result(kind, record_id))
        return self._parsed[(kind, record_id)]

    def public_key(self) -> bytes:
        """The site's public key: what its records' signatures are checked against."""
        return self.key.public_key

    def reported_list(self) -> VoterList | None:
        return self._reported("list", decode_voter_list)

    def voter_list(self, record_id: int) -> VoterList:
        """Voter list record `record_id`, reported or not (a proposal is voted by the list reported when it was made)."""
        if ("list", record_id) not in self._parsed:
            self._parsed[("list", record_id)] = decode_voter_list(self.records.result("list", record_id))
        return self._parsed[("list", record_id)]

    def reported_count(self) -> CountResult | None:
        return self._reported("count", parse_count)

    @cached_property
    def registry(self) -> RegistryCommands:
        known = KnownSites(self.settings.HOME)
        moves = MoveOptions(self.clock, self.settings.cooling_off_us, site_url=known.url, site_key=known.key,
                            along=drafts_marked,
                            outside=lambda: released(self.lock))
        registry = RegistryCommands(self.log, reported_list=self.reported_list, moves=moves, rules=self.rules)
        registry.catch_up()
        return registry

    @cached_property
    def polls(self) -> PollCommands:
        polls = PollCommands(self.log, clock=self.clock, reported_count=self.reported_count)
        polls.catch_up()
        return polls

    @cached_property
    def release_polls(self) -> ReleasePolls:
        """The live release's poll files brought into the poll stream, through the group writer like a command."""
        return ReleasePolls(self.settings.releases_path,
                            lambda commit, polls: self.writer.submit(lambda: self.polls.apply_release(commit, polls))
                            .result())

    @cached_property
    def drafts(self) -> DraftCommands:
        drafts = DraftCommands(self.log, clock=self.clock, **self.settings.drafts_options())
        drafts.catch_up()
        return drafts

    @cached_property
    def draft_reads(self) -> DraftReads:
        """What the gateway's drafts pages and API read (the site's drafts as they stand after a failed batch too)."""
        return DraftReads(lambda: self.drafts, self.lock)

    @cached_property
    def live_repo(self) -> LiveRepository:
        """The live repository (CIVITAS_LIVE_REPO, default CIVITAS_HOME/live.git), made from civitas's rules at first use."""
        return LiveRepository.open_or_create(self.settings.live_repo_path, self.clock(),
                                             max_patch_bytes=self.settings.MAX_PATCH_BYTES)

    @cached_property
    def mirrors(self) -> Mirrors:
        """The off-site mirrors (CIVITAS_MIRROR_URLS): each release that passed health is pushed there, tag signed."""
        return Mirrors.of(self.settings, self.settings.live_repo_path, self.key)

    @cached_property
    def decisions(self) -> DecisionRecords:
        return DecisionRecords(self.settings.HOME / "records", self.log, self.clock)

    @cached_property
    def releases(self) -> Releases:
        """The releases of the live repository (CIVITAS_RELEASES, default CIVITAS_HOME/releases); which one serves."""
        return Releases(self.settings.releases_path, self.live_repo.git)

    @cached_property
    def change(self) -> ChangeCommands:
        change = ChangeCommands(self.log, self.live_repo, RecordedLists(self), clock=self.clock,
                                decisions=self.decisions, fetch_limits=self.settings.fetch_limits,
                                deployments=DeploymentReads(self.log, self.releases, self.mirrors),
                                offered_builtins=self.offered_builtins)
        change.catch_up()
        return change

    def deployer(self, gateway: str, runner: Runner | None = None) -> Deployer:
        """The deployment engine of this site: releases smoke-checked through the gateway at `gateway`, run by
        `runner` (default: the content runner, which serves them from this process without a restart)."""
        if "_deployer" not in self.__dict__:
            runner = runner or ContentRunner(self.releases, gateway, smoke=SmokePass.of_site_key(self.key))
            self.__dict__["_deployer"] = Deployer(
                self.log, self.live_repo, self.decisions, self.releases, runner, clock=self.clock,
                health_s=self.settings.DEPLOY_HEALTH_S, mirrors=self.mirrors, lock=self.lock,
                ready=self.maintenance.settled)  # a decision's maintenance runs before it, or anything after, deploys
        return self.__dict__["_deployer"]

    @property
    def offered_builtins(self) -> frozenset[str]:
        """The maintenance built-ins offered here: the deployment engine's (pause, resume, roll back) always, by this
        process where it deploys itself, by its host supervisor where one runs the engine; restart only there (it
        restarts this process)."""
        engine = SUPERVISOR_BUILTINS if self.settings.SUPERVISED else DEPLOYMENT_CONTROLS
        return frozenset({"compile", "vacuum", *engine})

    def _engine(self) -> Deployer:
        engine = self.__dict__.get("_deployer")
        if engine is None:
            raise RuntimeError("this process runs no deployment engine (civitas up makes it); nothing was changed")
        return engine

    @cached_property
    def maintenance(self) -> Maintenance:
        """The voted maintenance actions this process runs (host mode: all but its supervisor's SUPERVISOR_BUILTINS)."""
        from civitas_counter import compile_all

        def compile_now(_run) -> str:
            compile_all(self.compile, self.has_polls)
            return "compiled a voter list, and a count where there are polls"

        def vacuum(_run) -> str:
            with self.log.engine.connect() as conn:  # VACUUM runs outside a transaction
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM")
            return "the database is compacted"

        offered = {"compile": compile_now, "vacuum": vacuum}
        if not self.settings.SUPERVISED:  # pause, resume, roll back: this process's own deployment engine
            offered |= DeploymentControls(self._engine).builtins()
        return Maintenance(self.log, self.change, offered, lock=self.lock, releases=self.releases,
                           claims=(lambda runs: runs not in SUPERVISOR_BUILTINS) if self.settings.SUPERVISED
                           else lambda runs: True)  # supervised: the supervisor's own are left to it

    def network(self, picture: bool = False) -> dict:
        """Where this site stands among its peers (civitas_sync's overview, with its SVG if `picture`)."""
        from civitas_sync import network_view

        return network_view(self.log, self.settings.HOME, picture=picture)

    def decide(self, now_us: int | None = None) -> Reply:
        """Record the decision of every proposal whose voting closed by `now_us` (default: now)."""
        return self.change.decide(now_us, lock=self.lock)


class RecordedLists:
    """The site's voter list records as the change commands ask for them: the reported one, or one by its name."""

    def __init__(self, site: Site) -> None:
        self.site = site

    def reported(self) -> tuple[str, VoterList] | None:
        record_id = self.site.records.reported_id("list")
        return None if record_id is None else (f"list {record_id}", self.site.voter_list(record_id))

    def get(self, name: str) -> VoterList:
        kind, _, number = name.partition(" ")
        if kind != "list" or not number.isdigit():
            raise NotFoundError(f"there is no voter list record {name!r}")
        return self.site.voter_list(int(number))


def drafts_marked(voter: str, to_site: str, at_us: int) -> list[tuple[str, list[NewEvent]]]:
    """Written with a move: the drafts' mark of where the member's registration went ("": here), so groups here keep
    them, weight, posts and votes as they were, and say where they are answered for."""
    return [("draft", [NewEvent.of(draft_pb2.DraftMemberMoved(voter=voter, to_site=to_site, moved_at_us=at_us),
                                   voter)])]


def bootstrap(settings: Settings | None = None) -> Site:
    """Wire the site from settings (the environment when none are given)."""
    return Site(settings or Settings())


def dispatch(site: Site, command: VoterCommand, *, local: bool = False) -> Reply:
    """Run a command at the service that owns it: the register, change proposals, drafts, or a poll (which says so if
    it does not exist). local: it comes from this machine's voter shell, so it may name files here (a patch)."""
    if command.service == "register":
        return site.registry.run(command.voter, list(command.args), idempotency_key=command.idempotency_key)
    if command.service == "change":
        return site.change.run(command.voter, list(command.args), idempotency_key=command.idempotency_key,
                               local=local)
    if command.service == "drafts":
        return site.drafts.run(command.voter, list(command.args), idempotency_key=command.idempotency_key)
    return site.polls.run(command.voter, command.service, list(command.args), idempotency_key=command.idempotency_key)
