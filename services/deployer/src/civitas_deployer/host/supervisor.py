"""The supervisor of `civitas up --self-governed`: it holds the site key, owns the public port, runs the
deployment engine, and runs the site as a child process from the live release. The site reads the live repository
but writes only the proposals repository (proposals.py), whose proposals each round brings in.

At its first start the live repository is given the civitas source (source.py), so that the site's code, like its
rules, changes only by a decision. Each round it deploys what was approved and not yet deployed, then makes sure the
live release is the one serving (started again if it died). It runs the maintenance built-ins that act on what it
owns (the site runs the other actions): `restart`, the serving release started again beside itself, health-checked,
then switched to; and the engine's pause, resume and roll back (deploying/controls.py).
A release that changes the safety kernel is switched to only once a supervisor of its own code is ready to take
over (handover.py); this one then stops and that one serves. A voted roll-back to a release of another safety kernel
is made the same way: its supervisor ready first (else nothing is rolled back), then the roll-back, then the handover.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from civitas_kernel.key_socket import short_path
from civitas_kernel.signing import SiteKey
from civitas_kernel.sql import open_log

from civitas_deployer.commands import ChangeCommands
from civitas_deployer.deploying import Deployer, DeployScheduler, Releases
from civitas_deployer.deploying.controls import SUPERVISOR_BUILTINS, DeploymentControls
from civitas_deployer.deploying.hold import hold_from_env
from civitas_deployer.deploying.runner import ReleaseFailed
from civitas_deployer.host.handover import (HANDOVER_ENV, RELEASE_ENV, Successor, kernel_changes, prove, served,
                                            start_successor, version)
from civitas_deployer.host.health import HealthLimits
from civitas_deployer.host.proposals import NAME as PROPOSALS, ProposalsRepository
from civitas_deployer.host.proxy import PublicProxy
from civitas_deployer.host.runner import HostRunner
from civitas_deployer.host.sandbox import bwrap
from civitas_deployer.host.signer import KeySocket
from civitas_deployer.host.source import carries_source, commit_source, installed_source
from civitas_deployer.host.tenure import Tenure
from civitas_deployer.live_repo import LiveRepository
from civitas_deployer.maintenance import Maintenance
from civitas_deployer.records import DecisionRecords

log = logging.getLogger("civitas.deployer.host")


def now_us() -> int:
    return time.time_ns() // 1000


@dataclass
class SupervisorConfig:
    home: Path
    site: str
    log_url: str
    live_repo: Path
    host: str = "127.0.0.1"
    port: int = 8000
    health_s: float = 30.0
    deploy_every_s: float = 5.0
    limits: HealthLimits = field(default_factory=HealthLimits)
    stop_grace_s: float = 10.0


RESTART = "restart"
DRAIN_S = 10.0  # at a handover, how long the old supervisor's port finishes the requests it is answering


class _NoLists:
    """The supervisor decides nothing (the site does): it reads decisions, never a voter list."""

    def reported(self):
        return None

    def get(self, name: str):
        raise LookupError(f"the supervisor reads no voter list ({name})")


class _HandingOver:
    """The runner as the engine sees it: switching to a release that changes the safety kernel first proves a
    supervisor of its code ready to take over (a failure there fails the deployment at phase handover)."""

    def __init__(self, runner: HostRunner, prove: Callable[[str], None]) -> None:
        self._runner, self._prove = runner, prove

    def __getattr__(self, name: str):
        return getattr(self._runner, name)

    def switch(self, candidate) -> None:
        self._prove(candidate.commit)
        self._runner.switch(candidate)


class Supervisor:
    def __init__(self, config: SupervisorConfig, *, mirrors: object = None, clock: Callable[[], int] = now_us,
                 environ: dict[str, str] | None = None, say: Callable[[str], None] = print) -> None:
        self.config, self.mirrors, self.clock, self.say = config, mirrors, clock, say
        self.environ = dict(os.environ if environ is None else environ)
        self.stopped = threading.Event()
        self._closers: list[Callable[[], None]] = []
        self.code: str | None = None  # the release whose safety kernel this process runs (None: not known yet)
        self.successor: Successor | None = None  # a supervisor of a new release's code, ready to take over
        self.handing_over = False
        self._kernel_due = False  # the first round asks whether the live release's safety kernel is this one's

    def start(self, again: bool = False) -> None:
        """Everything up, the live release serving (or the public port answering 503 while it cannot); again: this
        supervisor serving on after a new one did not take over (which it does not try twice)."""
        c = self.config
        bwrap()  # refuse to run any release unsandboxed
        home = Path(c.home).resolve()
        key = SiteKey.load_or_create(home / "site-key.pem")  # made before any release runs: then never shown to one
        state = home / "deployer"
        state.mkdir(mode=0o700, parents=True, exist_ok=True)
        handover = self.environ.pop(HANDOVER_ENV, None)  # started by the supervisor before, to take over from it
        told, port = prove(handover, self._self_check(home, state)) if handover else (None, None)
        tenure = self._tenure = Tenure(state / "supervisor.lock")
        tenure.take(wait_s=60.0 if handover else 0.0)  # refused while another supervisor serves this home
        self._closers.append(tenure.release)
        if handover:
            hold_from_env(home / "releases")("taking_over")  # a test's hold: the lock taken, nothing served yet
        signer = KeySocket(state / "key-socket" / "signer.sock", key)
        signer.start()
        self._closers.append(signer.stop)
        proxy = PublicProxy(c.host, c.port, sock=port)  # a port handed over is accepted on once the release serves
        proxy.start(serving=port is None)
        self._closers.append(proxy.stop)
        repo = LiveRepository.open_or_create(c.live_repo, self.clock())
        releases = Releases(home / "releases", repo.git)  # where the sandbox hides all but a release's own
        bootstrap = None if carries_source(repo) else commit_source(repo, installed_source(), self.clock())
        if bootstrap is not None:  # the site's code enters the live repository: it is what serves from now on
            self.say(f"committed the civitas source to the live repository as {bootstrap[:12]}")
            releases.export(bootstrap, None, self.clock())
            releases.point(bootstrap)
        self.proposals = ProposalsRepository(home / PROPOSALS, repo)  # what a release writes instead of live.git
        self.proposals.ensure()
        self.runner = HostRunner(home, releases, proxy, signer.path.parent, limits=c.limits,
                                 stop_grace_s=c.stop_grace_s, environ=self.environ,
                                 read_only=(Path(c.live_repo).resolve(), *self.proposals.guarded()),
                                 proposals=self.proposals.path)
        self._closers.append(self.runner.close)
        if self.mirrors is not None:  # pushed from here, signed with the key held here: never from a release
            self.mirrors.start()
            self._closers.append(self.mirrors.stop)
        site_log = open_log(c.log_url, c.site, key)
        records = DecisionRecords(home / "records", site_log, self.clock)
        if self.code is None:  # installed code: taken as the live release's (the first start committed it)
            self.code = self.environ.get(RELEASE_ENV) or releases.live()
        self.deployer = Deployer(site_log, repo, records, releases, _HandingOver(self.runner, self._prove),
                                 clock=self.clock, health_s=c.health_s, mirrors=self.mirrors)
        self.deployer.recover()  # a deployment a killed supervisor left in between ends, applied or rolled back
        controls = DeploymentControls(lambda: self.deployer, prove=self._return_to)
        controls.settle()  # a roll-back a killed supervisor left between its event and the refs is finished
        change = ChangeCommands(site_log, repo, _NoLists(), clock=self.clock, decisions=records)
        self.maintenance = Maintenance(site_log, change, {RESTART: self._restart, **controls.builtins()},
                                       claims=lambda runs: runs in SUPERVISOR_BUILTINS)
        self.maintenance.recover()  # a run of its own a killed supervisor cut short is recorded so, never run again
        self.deployer.ready = self.maintenance.settled  # a control decided meanwhile runs before anything deploys
        self.proposals.follow_main()
        self._kernel_due = not again and self.environ.get(RELEASE_ENV) is not None
        self._serve_live()
        self.say(f"serving release {releases.live()} on http://{c.host}:{proxy.port}; approved decisions are "
                 f"deployed every {c.deploy_every_s:g} s, each release built into {home / 'releases'} and "
                 f"health-checked for {c.health_s:g} s")
        proxy.open()  # the supervisor before answers on a handed-over port until here
        scheduler = self._rounds = DeployScheduler(self.round, c.deploy_every_s)
        scheduler.start()
        self._closers.append(scheduler.stop)
        said = state / "supervisor.json.new"  # renamed whole: a reader never sees it half written
        said.write_text(json.dumps({"pid": os.getpid(), "version": version(),
                                    "release": self.environ.get(RELEASE_ENV, "")}))
        os.replace(said, state / "supervisor.json")
        served(told)

    def round(self) -> None:
        """Take the voters' new proposals, deploy what was approved, then keep the live release serving; once a new
        supervisor is ready to take over, nothing more (it does what comes next)."""
        if self.successor is not None:
            return  # handing over: the main thread is about to stop this supervisor
        if self._kernel_due:
            self._kernel_due = False
            self._take_up_live_kernel()
        if self.successor is None:
            self.proposals.import_proposals()
            self.maintenance.run_due()  # before deploying, as the site's round does
            self._serve_live()  # a roll-back just run: the release it returned to serves before anything is deployed
        if self.successor is None:  # a roll-back to another safety kernel: its own supervisor deploys what follows
            self.deployer.run()
        if self.successor is not None:  # the main thread stops this supervisor and tells the new one to go
            self.handing_over = True
            self.stopped.set()
        self.proposals.follow_main()
        self._serve_live()

    def _self_check(self, home: Path, state: Path) -> dict:
        """What a new supervisor proves before it takes anything: the key, the journal, the key socket."""
        key = SiteKey.load_or_create(home / "site-key.pem") if (home / "site-key.pem").exists() else None
        if key is None:
            raise RuntimeError(f"no site key at {home / 'site-key.pem'}: nothing to take over")
        site_log = open_log(self.config.log_url, self.config.site, key)
        try:
            journal = sum(1 for _ in site_log.read("deployment"))
        finally:
            site_log.engine.dispose()  # read to prove it; the engine opens its own once this one holds the lock
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            with short_path(state / "key-socket" / "signer.sock") as where:  # a deep home's path is too long
                probe.connect(where)
        return {"journal_events": journal}

    def _prove(self, commit: str) -> None:
        """Before switching to a release that changes the safety kernel: its supervisor started and ready."""
        changed = kernel_changes(self.runner.releases.git, self.code, commit)
        if changed:
            self._ready(commit, changed)

    def _return_to(self, commit: str) -> str:
        """Before a voted roll-back to `commit` is journalled: when its safety kernel is not the one this process
        runs, a supervisor of its code started and ready to take over; one that is not refuses the roll-back."""
        changed = kernel_changes(self.runner.releases.git, self.code, commit)
        self._abandon()  # one readied for a release after it would run code the live repository no longer holds
        if not changed:
            return ""
        try:
            self.runner.prepare(commit, self.runner.releases.tree(commit))  # built when it served: at once
            self._ready(commit, changed, hold="returning")
        except ReleaseFailed as failure:
            raise RuntimeError(
                f"release {commit[:12]} has another safety kernel ({', '.join(changed[:5])}), so it is served only "
                f"by its own supervisor, which did not take over: {failure.reason}; nothing was rolled back (main "
                f"and the release serving are as they were){_said(failure.log_tail)}") from None
        said = self.successor.said
        return (f"; its safety kernel is not this supervisor's, so its own supervisor (pid {said.get('pid')}, "
                f"deployer {said.get('version')}) was ready and takes over from this one")

    def _take_up_live_kernel(self) -> None:
        """A supervisor handed over to, whose code is not the live release's safety kernel once it recovered (its
        predecessor stopped between readying it and a roll-back), readies the live release's own; once a start."""
        live = self.runner.releases.live()
        changed = kernel_changes(self.runner.releases.git, self.code, live) if live else []
        if not changed:
            return
        try:
            self.runner.prepare(live, self.runner.releases.tree(live))
            self._ready(live, changed)
        except ReleaseFailed as failure:
            log.error("the live release's supervisor was not ready: %s", failure.reason)
            self.say(f"the supervisor of the live release {live[:12]} did not take over ({failure.reason}); this "
                     "one serves it")

    def _ready(self, commit: str, changed: list[str], hold: str = "handing_over") -> None:
        self._abandon()  # one readied before (an earlier release in the round) is not the one that takes over
        c = self.config
        self.say(f"release {commit[:12]} changes the safety kernel ({', '.join(changed[:5])}): starting its "
                 "supervisor to take over")
        self.successor = start_successor(self.runner.releases.root / commit / "venv", commit, self.environ,
                                         Path(c.home).resolve() / "deployer", c.host, self._port(),
                                         c.limits.ready_timeout_s)
        self.deployer.hold(hold)  # a test's hold: the new one ready, waiting for go (a roll-back: before its event)

    def _abandon(self) -> None:
        if self.successor is not None:
            self.successor.abandon()
            self.successor = None

    def _port(self) -> int:
        return self.runner.proxy.port

    def _hand_over(self) -> bool:
        """This supervisor stopped; True once the new one serves, else it was killed (and this one serves again)."""
        self._rounds.stop()  # no more deploying here; the port, the release and the key socket serve on
        successor, self.successor, self.handing_over = self.successor, None, False
        if self.mirrors is not None:
            self.mirrors.stop()
        self._tenure.release()
        why = successor.go(self.config.limits.ready_timeout_s, self.runner.proxy.listening_fd(),
                           sent=lambda: self.deployer.hold("handed_over"))  # a test's hold: go said, serving on
        self.runner.proxy.stop(drain_s=DRAIN_S)  # the new one accepts on the same socket (or it is gone)
        self.close()
        if why is None:
            self.say(f"supervisor pid {successor.said.get('pid')} of release {successor.commit[:12]} (deployer "
                     f"{successor.said.get('version')}) serves now; this one stops")
            return True
        log.error("the new supervisor did not take over: %s", why)
        self.say(f"the supervisor of release {successor.commit[:12]} did not take over: {why}; this one serves "
                 "again")
        self.stopped.clear()
        self.start(again=True)
        return False

    def _restart(self, _run) -> str:
        """The built-in restart: the release serving started again, health-checked, before the old one stops."""
        try:
            return self.runner.restart(self.config.health_s)
        except ReleaseFailed as error:
            raise RuntimeError(f"{error}\n{error.log_tail[-4000:]}".rstrip()) from None

    def _serve_live(self) -> None:
        try:
            self.runner.serve_live()
        except Exception as error:  # the port answers 503 and the next round tries again
            log.error("the live release does not start: %s", error)
            self.say(f"the live release does not start: {error}")

    def close(self) -> None:
        """Stop the rounds, the release that serves, the port and the key socket, in that order."""
        for close in reversed(self._closers):
            try:
                close()
            except Exception:
                log.exception("stopping %s failed", close)
        self._closers.clear()

    def run(self) -> None:
        """start(), then serve until stopped (SIGTERM, SIGINT)."""
        try:
            self.start()
            while True:
                while not self.stopped.wait(0.5):  # woken often: a signal another thread took runs its handler
                    pass
                if not self.handing_over or self._hand_over():
                    break
        finally:
            self.close()  # the rounds first: one readying a new supervisor as the signal came ends before this
            self._abandon()  # stopped by a signal with one ready: it does not take over


def _said(log_tail: str) -> str:
    return f"; it wrote:\n{log_tail[-2000:]}" if log_tail else ""
