"""The Flux runner: the deployment engine's Runner in Kubernetes mode. It restarts nothing itself.

prepare reads the release's images (by digest); start commits the values to the GitOps repository, pushes, and asks
Flux to reconcile at once (refused: a warning, and Flux comes at its interval); check reads the HelmRelease and
GitRepository until domain/flux.py says applied or failed (Flux's reason is the incident's); revert, called by the
engine whenever it rolls a deployment back (also after a crash), commits the values of the release before on top,
once: Flux then reconciles back to the last good release, and nothing commits the failed values again by itself (a
retry is a new decision). A release naming a new deployer image is handed over through the deployer's own
HelmRelease (handover.py): a candidate proves itself at check, and takes over at switch.
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
from civitas_deployer.gitops.handover import DeployerRelease
from civitas_deployer.gitops.repository import GitOpsRepository, GitOpsUnavailable
from civitas_deployer.gitops.values import DEPLOYER, BadImages, images_of, release_values

log = logging.getLogger("civitas.deployer.gitops")
POLL_EVERY_S = 2.0


class FluxRunner:
    def __init__(self, releases: Releases, repository: GitOpsRepository, status: FluxStatus, *,
                 timeout_s: float = 1500.0, poll_s: float = POLL_EVERY_S,
                 clock: Callable[[], float] = time.time, deployer: DeployerRelease | None = None) -> None:
        """deployer: the deployer's own HelmRelease (None: it runs outside Flux, and a new deployer image is
        refused)."""
        self.releases, self.repository, self.status = releases, repository, status
        self.timeout_s, self.poll_s, self.clock = timeout_s, poll_s, clock
        self.deployer = deployer
        self._images: dict[str, dict[str, str]] = {}
        self._first_known = False  # whether the GitOps repository is known to hold the site's values
        self._first_said = ""

    @classmethod
    def of(cls, settings, releases: Releases, home: Path) -> FluxRunner:
        repository = GitOpsRepository(home / "gitops.git", settings.remote, settings.GITOPS_BRANCH,
                                      settings.GITOPS_VALUES_FILE, settings.GITOPS_PUSH_TIMEOUT_S)
        status = FluxStatus.of(settings)
        deployer = DeployerRelease(repository, status, settings.GITOPS_DEPLOYER_HELMRELEASE,
                                   settings.GITOPS_DEPLOYER_VALUES_FILE, settings.DEPLOYER_IMAGE) \
            if settings.GITOPS_DEPLOYER_HELMRELEASE else None
        return cls(releases, repository, status, timeout_s=settings.GITOPS_TIMEOUT_S, deployer=deployer)

    def prepare(self, commit: str, tree: Path) -> None:
        try:
            images = images_of(tree)
        except BadImages as error:
            raise ReleaseFailed("building", str(error)) from None
        new = images.get(DEPLOYER)
        if new is not None and (self.deployer is None or not self.deployer.running):
            lacks = ("it runs without its own HelmRelease (CIVITAS_GITOPS_DEPLOYER_HELMRELEASE)"
                     if self.deployer is None else "it does not know the image it runs (CIVITAS_DEPLOYER_IMAGE)")
            raise ReleaseFailed("building", f"the release names a new deployer image ({new}), but this deployer "
                                f"cannot hand over: {lacks}; the chart's Kubernetes mode sets both")
        if new == (self.deployer.running if self.deployer else None):
            images.pop(DEPLOYER, None)  # the image that runs already: nothing to hand over
        self._images[commit] = images

    def start(self, commit: str) -> Candidate:
        previous = self.releases.live()
        decision = self._decision(commit)
        images = self._images.pop(commit, {})
        new_deployer = images.pop(DEPLOYER, None)
        try:
            head = self.repository.fetch()
            values = release_values(self.repository.values_at(head), commit, decision, images,
                                    self.deployer.running if self.deployer else None)
            others = {self.deployer.values_file: self.deployer.candidate(head, commit, new_deployer)} \
                if new_deployer else {}
            message = (f"Deploy civitas {commit[:12]} ({decision})\n\n"
                       + (f"The deployer's candidate: {new_deployer}\n\n" if new_deployer else "")
                       + f"Civitas-Release: {commit}\nCivitas-Decision: {decision}\n")
            gitops_commit = self.repository.commit(head, values, message, int(self.clock()), others=others)
            self.repository.push(gitops_commit)
        except GitOpsUnavailable as error:
            raise ReleaseFailed("starting", f"the GitOps repository took no commit: {error}") from None
        log.info("release %s committed to the GitOps repository as %s", commit[:12], gitops_commit[:12])
        refused = self._request_reconcile(gitops_commit, handover=new_deployer is not None)
        return Candidate(commit, previous, {"gitops_commit": gitops_commit, "pushed_at": time.monotonic(),
                                            "reconcile_refused": refused, "new_deployer": new_deployer})

    def check(self, candidate: Candidate, window_s: float) -> None:
        """Flux's verdict on the pushed commit, within the runner's timeout (a Helm upgrade outlasts a health
        window: its own timeout is 5 minutes by default)."""
        gitops_commit = candidate.details["gitops_commit"]
        self._await("health", lambda waited: outcome(self.status.release(), self.status.repository(), gitops_commit,
                                                     waited_s=waited, timeout_s=self.timeout_s), candidate)
        new_deployer = candidate.details.get("new_deployer")
        if new_deployer:  # the site runs the release; the new deployer must prove itself before it takes over
            self._await("handover", lambda waited: self.deployer.verdict(gitops_commit, waited, self.timeout_s),
                        candidate, f"the candidate deployer {new_deployer} did not prove itself: ",
                        self.deployer.helmrelease)
            log.info("the candidate deployer %s is ready", new_deployer)

    def _await(self, phase: str, verdict, candidate: Candidate, why: str = "", name: str | None = None) -> None:
        """Until `verdict(waited_s)` ends: return when applied, raise ReleaseFailed(phase) when failed."""
        pushed = candidate.details["pushed_at"]
        while True:
            waited = time.monotonic() - pushed
            try:
                found = verdict(waited)
            except ClusterUnreadable as error:
                found = Outcome("reconciling", str(error))
                if waited >= self.timeout_s:
                    found = Outcome("failed", f"no status within {self.timeout_s:g} s; last: {error}")
            if found.ended:
                if found.state == APPLIED:
                    log.info("Flux applied %s: %s", candidate.details["gitops_commit"][:12], found.reason)
                    return
                refused = "".join(f"\nnot reconciled at once: {why}" for why in candidate.details.get(
                    "reconcile_refused", []))
                raise ReleaseFailed(phase, why + found.reason, json.dumps(self._conditions(name), indent=1) + refused)
            time.sleep(self.poll_s)

    def switch(self, candidate: Candidate) -> None:
        """Flux switched the site already; a proven new deployer is now named the deployer (Flux replaces this one
        with it once the engine has recorded the release applied: handover.py)."""
        new_deployer = candidate.details.get("new_deployer")
        if not new_deployer:
            return
        try:
            self.deployer.take_over(candidate.commit, new_deployer, int(self.clock()),
                                    lambda done: self._request_reconcile(done, handover=True))
        except GitOpsUnavailable as error:
            raise ReleaseFailed("switching", f"the deployer's handover took no commit: {error}") from None

    def stop(self, candidate: Candidate) -> None:
        """What was pushed is undone by revert, which the engine's rollback calls (after a crash too)."""

    def recover(self) -> None:
        """Nothing runs here; a deployment left in between is reverted through the engine's rollback. A handover
        that failed after the new deployer took over (Flux put this one back) is reverted (handover.py)."""
        if self.deployer is not None:
            self.deployer.recover(int(self.clock()), lambda done: self._request_reconcile(done, handover=True))

    def first_release(self) -> str | None:
        """The release that serves (the live HEAD at the very first start) committed as the site's values when the
        GitOps repository holds none yet: without them Flux cannot render the site (its pods need release.commit), so
        no gateway would serve the first vote. The GitOps commit made, or None (there already, or unreachable now:
        tried again at the next round). Once known to be there, never looked at again by this process."""
        commit = self.releases.live()
        if self._first_known or commit is None:
            return None
        try:
            head = self.repository.fetch()
            if self.repository.values_at(head) is not None:
                self._first_known = True
                return None
            values = release_values(None, commit, self._decision(commit), {},
                                    self.deployer.running if self.deployer else None)
            message = (f"Deploy civitas {commit[:12]}, the site's first release\n\n"
                       f"Civitas-Release: {commit}\n")
            made = self.repository.commit(head, values, message, int(self.clock()))
            self.repository.push(made)
        except GitOpsUnavailable as error:
            said = f"the site's first release is not in the GitOps repository yet: {error}"
            (log.debug if said == self._first_said else log.warning)(said)  # said once, not every round
            self._first_said = said
            return None
        self._first_known = True
        log.info("the site's first release %s committed to the GitOps repository as %s", commit[:12], made[:12])
        self._request_reconcile(made)
        return made

    def revert(self, commit: str, previous_release: str) -> None:
        """When the GitOps repository holds `commit`'s values, commit the values before it on top; else nothing
        (never pushed, or reverted already): safe to call again. Raises when the repository cannot be reached, so
        the engine's rollback stays unfinished and is taken again at its next round."""
        try:
            head = self.repository.fetch()
            if head is None or self.repository.release_at(head) != commit:
                return
            found, before_commit = self.repository.commit_before(
                head, lambda c: self.repository.release_at(c) != commit)
            if not found:
                raise GitOpsUnavailable(f"no values before release {commit[:12]} in the last commits")
            before = self.repository.values_at(before_commit)
            others = {} if self.deployer is None else {  # a candidate deployer goes with the release it came with
                self.deployer.values_file: self.deployer.values_at(before_commit)}
            message = (f"Revert civitas {commit[:12]}: its deployment failed\n\n"
                       f"The values of the release before ({(previous_release or 'none')[:12]}) are back; "
                       "a retry is a new decision.\n\n"
                       f"Civitas-Release: {previous_release}\nCivitas-Reverts: {commit}\n")
            reverted = self.repository.commit(head, before, message, int(self.clock()), others=others)
            self.repository.push(reverted)
        except GitOpsUnavailable as error:
            raise RuntimeError(f"the revert of {commit[:12]} did not reach the GitOps repository: {error}") from None
        self._request_reconcile(reverted, handover=bool(others))  # the last good release back without waiting

    def _request_reconcile(self, gitops_commit: str, handover: bool = False) -> list[str]:
        """Flux asked to fetch and reconcile now (the deployer's own HelmRelease too at a handover); what refused
        it, logged as a warning (deploying goes on: Flux fetches at its interval anyway)."""
        also = (self.deployer.helmrelease,) if handover and self.deployer is not None else ()
        refused = self.status.request_reconcile(time.time(), also)  # wall time: a new value at each request
        for why in refused:
            log.warning("Flux was not asked to reconcile %s at once (it will at its interval): %s",
                        gitops_commit[:12], why)
        return refused

    def _decision(self, commit: str) -> str:
        return (self.releases.info(commit) or {}).get("decision") or ""

    def _conditions(self, name: str | None = None) -> list:
        """The HelmRelease's conditions as last read (the site's, or the one named): the incident's log tail."""
        try:
            return ((self.status.release(name) or {}).get("status") or {}).get("conditions") or []
        except ClusterUnreadable as error:
            return [str(error)]
