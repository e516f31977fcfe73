"""The Flux runner: the deployment engine's Runner in Kubernetes mode. It restarts nothing itself.

prepare reads the release's images (by digest); start commits the values to the GitOps repository, pushes, and asks
Flux to reconcile at once (refused: a warning, and Flux comes at its interval); check reads the HelmRelease and
GitRepository until domain/flux.py says applied or failed (Flux's reason is the incident's); revert, called by the
engine whenever it rolls a deployment back (also after a crash), commits the values of the release before on top,
once: Flux then reconciles back to the last good release, and nothing commits the failed values again by itself (a
retry is a new decision).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

from civitas_deployer.deploying.releases import Releases
from civitas_deployer.deploying.runner import Candidate, ReleaseFailed
from civitas_deployer.domain.flux import APPLIED, Outcome, outcome
from civitas_deployer.gitops.cluster import ClusterUnreadable, FluxStatus
from civitas_deployer.gitops.repository import GitOpsRepository, GitOpsUnavailable
from civitas_deployer.gitops.values import BadImages, images_of, release_values

log = logging.getLogger("civitas.deployer.gitops")
POLL_EVERY_S = 2.0


class FluxRunner:
    def __init__(self, releases: Releases, repository: GitOpsRepository, status: FluxStatus, *,
                 timeout_s: float = 1500.0, poll_s: float = POLL_EVERY_S,
                 clock: Callable[[], float] = time.time) -> None:
        self.releases, self.repository, self.status = releases, repository, status
        self.timeout_s, self.poll_s, self.clock = timeout_s, poll_s, clock
        self._images: dict[str, dict[str, str]] = {}

    @classmethod
    def of(cls, settings, releases: Releases, home: Path) -> FluxRunner:
        repository = GitOpsRepository(home / "gitops.git", settings.remote, settings.GITOPS_BRANCH,
                                      settings.GITOPS_VALUES_FILE, settings.GITOPS_PUSH_TIMEOUT_S)
        return cls(releases, repository, FluxStatus.of(settings), timeout_s=settings.GITOPS_TIMEOUT_S)

    def prepare(self, commit: str, tree: Path) -> None:
        try:
            self._images[commit] = images_of(tree)
        except BadImages as error:
            raise ReleaseFailed("building", str(error)) from None

    def start(self, commit: str) -> Candidate:
        previous = self.releases.live()
        decision = self._decision(commit)
        try:
            head = self.repository.fetch()
            values = release_values(self.repository.values_at(head), commit, decision,
                                    self._images.pop(commit, {}))
            message = (f"Deploy civitas {commit[:12]} ({decision})\n\n"
                       f"Civitas-Release: {commit}\nCivitas-Decision: {decision}\n")
            gitops_commit = self.repository.commit(head, values, message, int(self.clock()))
            self.repository.push(gitops_commit)
        except GitOpsUnavailable as error:
            raise ReleaseFailed("starting", f"the GitOps repository took no commit: {error}") from None
        log.info("release %s committed to the GitOps repository as %s", commit[:12], gitops_commit[:12])
        refused = self._request_reconcile(gitops_commit)
        return Candidate(commit, previous, {"gitops_commit": gitops_commit, "pushed_at": time.monotonic(),
                                            "reconcile_refused": refused})

    def check(self, candidate: Candidate, window_s: float) -> None:
        """Flux's verdict on the pushed commit, within the runner's timeout (a Helm upgrade outlasts a health
        window: its own timeout is 5 minutes by default)."""
        gitops_commit, pushed = candidate.details["gitops_commit"], candidate.details["pushed_at"]
        while True:
            waited = time.monotonic() - pushed
            try:
                found = outcome(self.status.release(), self.status.repository(), gitops_commit,
                                waited_s=waited, timeout_s=self.timeout_s)
            except ClusterUnreadable as error:
                found = Outcome("reconciling", str(error))
                if waited >= self.timeout_s:
                    found = Outcome("failed", f"no status within {self.timeout_s:g} s; last: {error}")
            if found.ended:
                if found.state == APPLIED:
                    log.info("Flux applied %s: %s", gitops_commit[:12], found.reason)
                    return
                refused = "".join(f"\nnot reconciled at once: {why}" for why in candidate.details.get(
                    "reconcile_refused", []))
                raise ReleaseFailed("health", found.reason, json.dumps(self._conditions(), indent=1) + refused)
            time.sleep(self.poll_s)

    def switch(self, candidate: Candidate) -> None:
        """Flux switched it already: nothing to do."""

    def stop(self, candidate: Candidate) -> None:
        """What was pushed is undone by revert, which the engine's rollback calls (after a crash too)."""

    def recover(self) -> None:
        """Nothing runs here; a deployment left in between is reverted through the engine's rollback."""

    def revert(self, commit: str, previous_release: str) -> None:
        """When the GitOps repository holds `commit`'s values, commit the values before it on top; else nothing
        (never pushed, or reverted already): safe to call again. Raises when the repository cannot be reached, so
        the engine's rollback stays unfinished and is taken again at its next round."""
        try:
            head = self.repository.fetch()
            if head is None or self.repository.release_at(head) != commit:
                return
            found, before = self.repository.values_before(head, commit)
            if not found:
                raise GitOpsUnavailable(f"no values before release {commit[:12]} in the last commits")
            message = (f"Revert civitas {commit[:12]}: its deployment failed\n\n"
                       f"The values of the release before ({(previous_release or 'none')[:12]}) are back; "
                       "a retry is a new decision.\n\n"
                       f"Civitas-Release: {previous_release}\nCivitas-Reverts: {commit}\n")
            reverted = self.repository.commit(head, before, message, int(self.clock()))
            self.repository.push(reverted)
        except GitOpsUnavailable as error:
            raise RuntimeError(f"the revert of {commit[:12]} did not reach the GitOps repository: {error}") from None
        self._request_reconcile(reverted)  # the last good release back without waiting for Flux's interval

    def _request_reconcile(self, gitops_commit: str) -> list[str]:
        """Flux asked to fetch and reconcile now; what refused it, logged as a warning (deploying goes on: Flux
        fetches at its interval anyway)."""
        refused = self.status.request_reconcile(time.time())  # wall time: a new value at each request
        for why in refused:
            log.warning("Flux was not asked to reconcile %s at once (it will at its interval): %s",
                        gitops_commit[:12], why)
        return refused

    def _decision(self, commit: str) -> str:
        return (self.releases.info(commit) or {}).get("decision") or ""

    def _conditions(self) -> list:
        """The HelmRelease's conditions as last read: the incident's log tail."""
        try:
            return ((self.status.release() or {}).get("status") or {}).get("conditions") or []
        except ClusterUnreadable as error:
            return [str(error)]
