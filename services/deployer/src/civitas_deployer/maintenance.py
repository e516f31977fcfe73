"""Voted maintenance actions run: each approved request once, keyed by its decision, its output in the log.

Built-ins are the deployer's own code (given by the composition root: compile, vacuum, ...); a command named in
maintenance.toml runs in the sandbox: bubblewrap on a host (maintenance_sandbox.py), a Job of its own on Kubernetes
(gitops/maintenance_jobs.py), whose run outlives a stop of the deployer and is taken up again at its start. A
built-in this site does not offer is recorded as not available (127); a request that no longer reads is recorded
with why (2). Nothing is ever run twice: a run cut short by a stop is recorded as interrupted at the next start, and
asking again is a new request.
In host mode two processes run maintenance on one log: the site runs every action but restart, pause, resume and
roll back, which its supervisor runs (`claims` says which actions a process takes, by what they run).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext

from civitas_kernel.application import StreamFolder
from civitas_kernel.log import EventLog

from civitas_deployer.commands import ChangeCommands
from civitas_deployer.domain.maintenance import ACTIONS_FILE, Action, check_requests, parse_actions, request_paths
from civitas_deployer.domain.maintenance_journal import (RUNNING, MaintenanceJournal, Run, decide_finish,
                                                         decide_interrupted, decide_start)
from civitas_deployer.domain.rules import RulesError
from civitas_deployer.maintenance_sandbox import BUBBLEWRAP, NOT_AVAILABLE, CommandSandbox, is_command

MAINTENANCE_STREAMS = ("maintenance",)
# Does the work for a run (its decision and request, a Run of the journal), returns what to record as its output;
# raising is a failure, recorded with why.
Builtin = Callable[[Run], str]
LOG = logging.getLogger("civitas.deployer.maintenance")


class Maintenance:
    def __init__(self, log: EventLog, change: ChangeCommands | Callable[[], ChangeCommands],
                 builtins: Mapping[str, Builtin] | None = None,
                 sandbox: CommandSandbox = BUBBLEWRAP,
                 lock: AbstractContextManager | None = None, releases=None,
                 claims: Callable[[str], bool] = lambda runs: True) -> None:
        """change: the change commands, or where to find them at each use (a service's owner may fold them anew);
        releases: where the verified release's maintenance.toml is read for the page (none: not shown);
        claims: whether this process runs an action, by what it runs (a built-in's name, a command's words, or ""
        for a request that does not read), the others left to the process that does;
        sandbox: where a command runs (bubblewrap here, or a Job of its own on Kubernetes)."""
        self._change = change if callable(change) else (lambda: change)
        self.log, self.builtins, self.sandbox = log, dict(builtins or {}), sandbox
        self.claims = claims
        self.releases = releases
        self.lock = lock or nullcontext()  # the site's: the change commands' state is read under it, never beside it
        self.journal = MaintenanceJournal()
        self.folder = StreamFolder(log, MAINTENANCE_STREAMS, self.journal.evolve)
        self._taken_up: list[tuple[int, str]] = []  # runs begun before a stop whose sandbox outlived it (a Job)

    @property
    def change(self) -> ChangeCommands:
        return self._change()

    def recover(self) -> None:
        """At start: a run begun before a stop and never finished is recorded as interrupted, not run again; a
        command whose sandbox outlives the deployer (a Job) is taken up by the next round instead: its outcome read
        from where it ran, or recorded interrupted when it never began there."""
        outlives = self.sandbox.outlives_process

        def cut_short(runs: str) -> bool:
            return self.claims(runs) and not (outlives and is_command(runs))

        self.folder.append("maintenance", lambda: decide_interrupted(self.journal, cut_short))
        self._taken_up = [key for key, r in sorted(self.journal.runs.items())
                          if r.state == RUNNING and self.claims(r.runs) and outlives and is_command(r.runs)]

    def runs(self) -> list[dict]:
        self.folder.catch_up()
        return [r.as_dict() for r in sorted(self.journal.runs.values(), key=lambda r: (r.decision, r.request))]

    def actions(self) -> tuple[list[dict], str]:
        """The actions the verified release defines, and its commit (none yet: nothing)."""
        commit = self.releases.verified() if self.releases is not None else None
        if commit is None:
            return [], ""
        try:
            defined = parse_actions((self.releases.tree(commit) / ACTIONS_FILE).read_bytes())
        except (OSError, RulesError):
            return [], commit
        return [{"name": a.name, "title": a.title, "runs": a.runs, "builtin": a.builtin, "stop_only": a.stop_only,
                 "timeout_s": a.timeout_s} for a in defined.values()], commit

    def view(self, offered: frozenset[str] | set[str], limit: int = 200) -> dict:
        """What the maintenance page shows: the actions, the release defining them, the requests, the newest runs and
        the built-ins this site offers (a service's GET /maintenance answers this)."""
        actions, commit = self.actions()
        return {"actions": actions, "release": commit, "proposed": self.proposed(limit),
                "runs": self.runs()[::-1][:limit], "offered": sorted(offered)}

    def proposed(self, limit: int = 200) -> list[dict]:
        """The proposals asking for runs, newest first, each with its decision once decided (under the lock)."""
        with self.lock:
            self.change.catch_up()
            decisions = self.change.decisions.decided() if self.change.decisions is not None else {}
            decided = {s.proposal: s for s in decisions.values()}
            found = []
            for proposal in reversed(list(self.change.state.proposals.values())):
                paths = request_paths(proposal.current.changed_paths)
                if paths and not proposal.withdrawn:
                    summary = decided.get(proposal.id)
                    found.append({"proposal": proposal.id, "title": proposal.current.title, "requests": paths,
                                  "decision": summary.record if summary else None,
                                  "approved": summary.approved if summary else None})
                    if len(found) >= limit:
                        break
            return found

    def run_due(self) -> list[dict]:
        """Run every approved request not begun yet, in decision order; what was run (the actions outside the lock)."""
        done = self._take_up()
        for summary, revision, paths, asked, refusal in self._due():
            for path in paths:
                found = asked.get(path)
                action = found[1] if found else None
                if not self.claims(action.runs if action else ""):
                    continue  # another process's to run (host mode: the supervisor's restart, pause, ...)
                if self.folder.append("maintenance", lambda: decide_start(
                        self.journal, summary.record, summary.proposal, summary.content_hash, path,
                        action.name if action else "", action.runs if action else "")) is None:
                    continue  # begun elsewhere, or before
                run = self.journal.runs[(summary.record, path)]
                code, output, took = self._run(action, run) if action else (2, refusal, 0)
                self.folder.append("maintenance", lambda: decide_finish(self.journal, summary.record, path, code,
                                                                        output, took))
                if action is not None and action.builtin is None:
                    self.sandbox.forget(run)  # recorded: what it ran in may go
                done.append(self.journal.runs[(summary.record, path)].as_dict())
        return done

    def _take_up(self) -> list[dict]:
        """The runs begun before a stop that still ran where the sandbox put them: each one's outcome, once."""
        done = []
        for key in list(self._taken_up):
            run = self.journal.runs.get(key)
            if run is None or run.state != RUNNING:
                self._taken_up.remove(key)
                continue
            try:
                outcome = self.sandbox.resume(run)
            except Exception as error:  # the cluster unreadable now: asked again at the next round, never run again
                LOG.warning("the run of %s (decision %s) cannot be looked up yet: %s", run.request, run.decision, error)
                continue
            if outcome is None:
                self.folder.append("maintenance", lambda: decide_interrupted(self.journal, only=key))
            else:
                code, output, took = outcome
                self.folder.append("maintenance", lambda: decide_finish(self.journal, *key, code, output, took))
                self.sandbox.forget(run)
            self._taken_up.remove(key)
            done.append(self.journal.runs[key].as_dict())
        return done

    def settled(self, summary) -> bool:
        """Whether every run a decision asks for that this process takes has begun: only then may the engine deploy
        it (or any later one), so a pause decided between the round's two steps acts before anything is deployed."""
        with self.lock:
            self.change.catch_up()
            item = self._requests_of(summary)
        if item is None:
            return True
        _, _, paths, asked, _ = item
        return not any(self.claims(asked[p][1].runs if p in asked else "") for p in paths)

    def _due(self) -> list[tuple]:
        """(decision, revision, request paths not begun, their requests checked, why none could be) under the lock."""
        with self.lock:
            decisions = self.change.decisions.decided() if self.change.decisions is not None else {}
            self.change.catch_up()
            found = []
            for summary in sorted(decisions.values(), key=lambda s: s.record):
                item = self._requests_of(summary)
                if item is not None:
                    found.append(item)
            return found

    def _requests_of(self, summary) -> tuple | None:
        self.folder.catch_up()
        proposal = self.change.state.proposals.get(summary.proposal)
        if not summary.approved or proposal is None:
            return None
        revision = next(r for r in proposal.revisions if r.number == summary.revision)
        paths = [p for p in request_paths(revision.changed_paths) if (summary.record, p) not in self.journal.runs]
        if not paths:
            return None
        repo, asked, refusal = self.change.repo, {}, ""
        try:
            asked = {r.path: (r, a) for r, a in check_requests(
                revision.changed_paths, lambda p: repo.read(revision.base_commit, p),
                lambda p: repo.read(revision.result_commit, p))}
        except RulesError as error:
            refusal = str(error)
        return summary, revision, paths, asked, refusal

    def _run(self, action: Action, run: Run) -> tuple[int, str, int]:
        if action.builtin is None:
            return self.sandbox.run(action.command, action.timeout_s, run)
        work = self.builtins.get(action.builtin)
        if work is None:
            return NOT_AVAILABLE, f"the built-in {action.builtin} is not offered on this site; nothing was run", 0
        started = time.monotonic()
        try:
            output, code = work(run), 0
        except Exception as error:  # a built-in that fails is recorded as failed, with why
            output, code = f"{type(error).__name__}: {error}", 1
        return code, output, int((time.monotonic() - started) * 1000)
