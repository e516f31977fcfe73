"""The deployment engine: every approved decision deployed once, in decision order, health-checked, and rolled back
durably when its release fails; its journal is the deployment stream.

One deployment at a time, each to its end: building (main moved to the deployed commit by compare-and-swap, the
release exported and built), starting, health, switching, then applied; or failed (the incident) and rolled back
(the release before serves again, main gets a revert commit). Every step is journalled before it is taken and is
safe to take twice, so a deployer killed anywhere finishes from the log when it starts again: a deployment
stopped before its health passed is rolled back (never started again by itself: that could loop on a release
that kills the deployer), one stopped while switching is applied. A rolled-back revision is never retried by
itself; a retry is a new proposal, voted on and decided again.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from civitas_kernel.application import StreamFolder
from civitas_kernel.events import NewEvent
from civitas_kernel.log import EventLog
from civitas_schema.v1 import deployment_pb2 as pb

from civitas_deployer.deploying.commits import (
    deployment_commit, deployment_message, main_of, move_main, revert_commit,
)
from civitas_deployer.deploying.hold import hold_from_env
from civitas_deployer.deploying.kinds import kind_of
from civitas_deployer.deploying.placing import NeedsNewVote, place
from civitas_deployer.deploying.releases import VERIFIED, Releases
from civitas_deployer.deploying.runner import Candidate, ReleaseFailed, Runner
from civitas_deployer.domain.deployments import (
    BUILDING, HEALTH, STARTING, SWITCHING, Deployment, DeploymentState, record_name,
)
from civitas_deployer.domain.proposals import ChangeState, Revision
from civitas_deployer.live_repo import LiveRepository
from civitas_deployer.records import DecisionRecords, DecisionSummary

log = logging.getLogger("civitas.deployer")
STREAM = "deployment"
ACTOR = "deployer"


class Deployer:
    def __init__(self, log_: EventLog, repo: LiveRepository, decisions: DecisionRecords, releases: Releases,
                 runner: Runner, *, clock: Callable[[], int], health_s: float = 30.0, mirrors: Any = None,
                 lock: AbstractContextManager | None = None, hold: Callable[[str], None] | None = None,
                 ready: Callable[[DecisionSummary], bool] | None = None) -> None:
        """lock: held while an event is appended (the embedded site's, whose writers share the log); ready: whether
        a decision may be deployed yet (the maintenance round has begun the runs it asks for: Maintenance.settled)."""
        self.ready = ready
        self.log, self.repo, self.decisions, self.releases, self.runner = log_, repo, decisions, releases, runner
        self.clock, self.health_s, self.mirrors = clock, health_s, mirrors
        self._append_lock = lock or nullcontext()
        self.hold = hold or hold_from_env(releases.root)
        self.state, self.changes = DeploymentState(), ChangeState()
        self.folder = StreamFolder(log_, (STREAM,), self.state.evolve)
        self.change_folder = StreamFolder(log_, ("change",), self.changes.evolve)
        self._lock = threading.Lock()
        self._recovered = False

    # -- the rounds ------------------------------------------------------------------------

    def run(self) -> list[Deployment]:
        """Finish what a stopped deployer left, then deploy every approved decision not deployed yet, in order."""
        with self._exclusive():
            self._recover()
            for deployment in self.state.unfinished():  # one whose rollback itself failed (git, the database)
                self._finish(deployment)
            done = []
            for summary in self._due():
                if self.ready is not None and not self.ready(summary):
                    break  # decided since the maintenance round looked: its runs first, and nothing overtakes it
                done.append(self._deploy(summary))
            return done

    def recover(self) -> None:
        """What `civitas up` does before it serves: the live release, and every deployment left in between ended."""
        with self._exclusive():
            self._recover()

    def _recover(self) -> None:
        self._catch_up()
        if self._recovered:
            return
        self.releases.clear_leftovers()
        self.runner.recover()
        for deployment in self.state.unfinished():
            self._finish(deployment)
        self._first_release()
        self._recovered = True

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """One engine at a time, in this process and across processes on this releases folder."""
        self.releases.root.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.releases.root / "deploying.lock", "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def _catch_up(self) -> None:
        self.folder.catch_up()
        self.change_folder.catch_up()

    def _first_release(self) -> None:
        """The live HEAD as the first release, when none serves yet."""
        if self.releases.live() is None and self.state.last_applied() is None:
            head = self.repo.head()
            self.releases.export(head, None, self.clock())
            self.releases.point(head)
        if self.releases.verified() is None and self.releases.live() is not None and not self.state.unfinished():
            self.releases.point(self.releases.live(), VERIFIED)

    def _due(self) -> list[DecisionSummary]:
        if self.state.paused_by:  # a decision paused deployments (deploying/controls.py) until one resumes them
            return []
        decided = sorted(self.decisions.decided().values(), key=lambda s: s.record)
        return [s for s in decided if s.approved and record_name(s.record) not in self.state.by_decision]

    def _append(self, message) -> None:
        """One event of the journal, at the stream's head: the engine is the stream's one writer (the lock file)."""
        event = NewEvent.of(message, ACTOR)
        with self._append_lock:
            self.folder.append(STREAM, lambda: [event])

    def _phase(self, d: Deployment, phase: str) -> None:
        self._append(pb.DeploymentPhase(deployment=d.id, phase=phase, at_us=self.clock()))
        self.hold(phase)

    # -- one deployment ------------------------------------------------------------------

    def _deploy(self, summary: DecisionSummary) -> Deployment:
        name, deployment_id = record_name(summary.record), self.state.next_id()
        revision = self._revision(summary)
        head, now = main_of(self.repo.git), self.clock()
        try:
            if revision is None:
                raise NeedsNewVote(f"the change stream has no revision {summary.revision} of proposal "
                                   f"{summary.proposal} with content {summary.content_hash[:12]}")
            placement = place(self.repo, revision, head)
        except NeedsNewVote as refusal:
            log.warning("deployment %s of %s refused: %s", deployment_id, name, refusal)
            self._append(pb.DeploymentRefused(
                deployment=deployment_id, decision=name, proposal=summary.proposal, revision=summary.revision,
                content_hash=summary.content_hash, base=revision.base_commit if revision else "",
                reason=str(refusal), at_us=now))
            return self.state.deployments[deployment_id]
        planned = Deployment(deployment_id, name, summary.proposal, revision.number, revision.content_hash,
                             revision.base_commit, now, placement.diff_hash,
                             rebased_from=revision.result_commit if placement.rebased else "")
        message = deployment_message(planned, revision.title, head)
        commit = deployment_commit(self.repo.git, placement.tree, head, revision.result_commit, message, now)
        self._append(pb.DeploymentStarted(
            deployment=deployment_id, decision=name, proposal=summary.proposal, revision=revision.number,
            content_hash=revision.content_hash, diff_hash=placement.diff_hash, base=revision.base_commit,
            commit=commit, previous=head, previous_release=self.releases.live() or "",
            rebased_from=planned.rebased_from, kind=kind_of(revision.changed_paths), at_us=now))
        deployment = self.state.deployments[deployment_id]
        self.hold(BUILDING)
        self._carry(deployment, message)
        return deployment

    def _revision(self, summary: DecisionSummary) -> Revision | None:
        proposal = self.changes.proposals.get(summary.proposal)
        if proposal is None:
            return None
        return next((r for r in proposal.revisions if r.content_hash == summary.content_hash
                     and r.number == summary.revision), None)

    def _carry(self, d: Deployment, message: str) -> None:
        """From building to applied, or to the incident and the rollback."""
        candidate: Candidate | None = None
        phase = BUILDING
        try:
            move_main(self.repo.git, d.commit, d.previous)
            tree = self.releases.export(d.commit, d.decision, d.started_us)
            self.runner.prepare(d.commit, tree)
            self._phase(d, phase := STARTING)
            candidate = self.runner.start(d.commit)
            self._phase(d, phase := HEALTH)
            self.runner.check(candidate, self.health_s)
            self._phase(d, phase := SWITCHING)
            self.runner.switch(candidate)
            self._applied(d, message)
        except ReleaseFailed as failure:
            self._fail(d, failure.phase or phase, failure.reason, failure.log_tail, candidate)
        except Exception as error:  # a fault of ours or of git's: the release is not known good, so it goes
            log.exception("deployment %s failed at %s", d.id, phase)
            self._fail(d, phase, f"the deployer failed: {type(error).__name__}: {error}", "", candidate)

    def _applied(self, d: Deployment, message: str) -> None:
        self.releases.point(d.commit)
        self.releases.point(d.commit, VERIFIED)  # what readers that must never act on a candidate follow
        self._append(pb.DeploymentApplied(deployment=d.id, commit=d.commit, at_us=self.clock()))
        if self.mirrors is not None:  # only now, after the health window: never a release not known good
            self.mirrors.verified(d.commit, f"deployment-{d.id}", message)

    def _fail(self, d: Deployment, phase: str, reason: str, log_tail: str, candidate: Candidate | None) -> None:
        log.error("deployment %s of %s failed at %s: %s", d.id, d.decision, phase, reason)
        self._append(pb.DeploymentFailed(deployment=d.id, phase=phase, reason=reason, log_tail=log_tail[-4096:],
                                         at_us=self.clock()))
        self.hold("rolling_back")
        if candidate is not None:
            try:
                self.runner.stop(candidate)
            except Exception:  # the rollback goes on: the release before must serve whatever the candidate does
                log.exception("stopping the candidate of deployment %s failed", d.id)
        self._roll_back(d)

    def _roll_back(self, d: Deployment) -> None:
        """The release before serves, and main holds its tree again through a revert commit; safe to repeat."""
        revert_elsewhere = getattr(self.runner, "revert", None)  # Kubernetes mode: the GitOps repository's too
        if revert_elsewhere is not None:
            revert_elsewhere(d.commit, d.previous_release)
        self.releases.point(d.previous_release or None)
        git = self.repo.git
        revert, main = revert_commit(git, d), main_of(git)
        if main == d.previous:  # stopped before main moved: move it, so history shows what was reverted
            move_main(git, d.commit, d.previous)
            main = d.commit
        if main == d.commit:
            move_main(git, revert, d.commit)
        elif main != revert:  # written outside civitas meanwhile: left as it is, and said
            log.error("main is on %s, which deployment %s did not write; it is left there", main[:12], d.id)
            revert = ""
        self._append(pb.DeploymentRolledBack(deployment=d.id, revert=revert, release=d.previous_release,
                                             at_us=self.clock()))

    def _finish(self, d: Deployment) -> None:
        """A deployment a stopped deployer left in between, ended from what the journal says."""
        if d.incident is not None:
            self._roll_back(d)
        elif d.phase == SWITCHING and main_of(self.repo.git) == d.commit:  # its health window passed: known good
            self.releases.export(d.commit, d.decision, d.started_us)
            self._applied(d, self.repo.git.out("log", "-1", "--format=%B", d.commit))
        else:
            self._fail(d, d.phase, f"the deployer stopped during {d.phase} and started again; the release was not "
                                   "seen healthy, so the one before it serves", "", None)
