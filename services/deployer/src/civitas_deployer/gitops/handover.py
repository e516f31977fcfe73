"""The supervised handover on Kubernetes: a release naming a new deployer image (`deployer = ...@sha256:...` in
deploy/images.toml) is deployed to the deployer's own HelmRelease, never to the site's, in two commits.

1. With the site's values, the deployer's values file names the image as a *candidate*: Flux runs it beside the
   deployer that serves (gitops/candidate.py: it reads the key, the journal, its HelmRelease and the repository,
   takes nothing) and Helm waits for its readiness. Not ready: Flux remediates, the release fails at `handover`
   and its revert takes the candidate out; the deployer that serves never stopped.
2. Ready, and the site applied: the values file names the image as the deployer's (the candidate gone), pushed at
   the switch, just before the engine records the release applied. Flux then replaces this deployer (Recreate: one
   writer) with the proven image, which finds the deployment applied (or, killed before that, ends it as applied:
   its health had passed). A new deployer that fails to start after all is rolled back by Flux to this image,
   whose start (`recover`) sees its HelmRelease remediated and commits the values file back to itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from civitas_deployer.domain.flux import FAILED, outcome
from civitas_deployer.gitops.cluster import ClusterUnreadable, FluxStatus
from civitas_deployer.gitops.repository import GitOpsRepository, GitOpsUnavailable
from civitas_deployer.gitops.values import deployer_values

log = logging.getLogger("civitas.deployer.gitops")


class DeployerRelease:
    """The deployer's own HelmRelease and values file, and the image this deployer runs."""

    def __init__(self, repository: GitOpsRepository, status: FluxStatus, helmrelease: str, values_file: str,
                 running: str) -> None:
        self.repository, self.status = repository, status
        self.helmrelease, self.values_file, self.running = helmrelease, values_file, running

    def values_at(self, commit: str | None) -> dict | None:
        return self.repository.values_at(commit, self.values_file)

    def named_at(self, commit: str | None) -> str | None:
        """The deployer image the values file at `commit` runs (None: the operator's, before any handover)."""
        return ((self.values_at(commit) or {}).get("deployer") or {}).get("image")

    def candidate(self, head: str | None, commit: str, image: str) -> dict:
        return deployer_values(self.values_at(head), commit, image, candidate=True)

    def verdict(self, gitops_commit: str, waited_s: float, timeout_s: float):
        """Flux's verdict on the deployer's HelmRelease at `gitops_commit` (domain/flux.py, as for the site)."""
        return outcome(self.status.release(self.helmrelease), self.status.repository(), gitops_commit,
                       waited_s=waited_s, timeout_s=timeout_s)

    def take_over(self, commit: str, image: str, at_s: int, nudge: Callable[[str], object]) -> str:
        """The proven image as the deployer: one commit of the values file on the repository's head; pushed."""
        head = self.repository.fetch()
        values = deployer_values(self.values_at(head), commit, image, candidate=False)
        message = (f"Hand civitas's deployer over to {image}\n\nIts candidate proved itself for release "
                   f"{commit[:12]}; Flux replaces the deployer with it.\n\nCivitas-Release: {commit}\n"
                   f"Civitas-Deployer: {image}\n")
        done = self.repository.commit(head, self.repository.values_at(head), message, at_s,
                                      others={self.values_file: values})
        self.repository.push(done)
        nudge(done)
        log.info("the deployer hands over to %s (GitOps commit %s)", image, done[:12])
        return done

    def recover(self, at_s: int, nudge: Callable[[str], object]) -> str | None:
        """At this deployer's start: when the values file names another deployer image and Flux remediated the
        deployer's HelmRelease at that commit (the new deployer failed after taking over, and Flux put this one
        back), commit the values file as it was before that image, so the desired state is this deployer again.
        The revert commit, or None when there was nothing to do."""
        if not self.running:
            return None
        try:
            head = self.repository.fetch()
            named = self.named_at(head)
            if head is None or named is None or named == self.running:
                return None
            verdict = outcome(self.status.release(self.helmrelease), self.status.repository(), head,
                              waited_s=0.0, timeout_s=float("inf"))
            if verdict.state != FAILED:
                return None
            found, before = self.repository.commit_before(head, lambda c: self.named_at(c) != named)
            if not found:
                raise GitOpsUnavailable(f"no deployer values before {named} in the last commits")
            message = (f"Revert the deployer's handover to {named}: it failed after taking over\n\n"
                       f"Flux said: {verdict.reason[:400]}\nThe deployer before it ({self.running}) serves again; "
                       "a retry is a new decision.\n\n"
                       f"Civitas-Deployer: {self.running}\nCivitas-Reverts-Deployer: {named}\n")
            restored = self.values_at(before)
            if restored and isinstance(restored.get("deployer"), dict):
                restored["deployer"].pop("candidate", None)  # the handover's first step: no candidate again
            reverted = self.repository.commit(head, self.repository.values_at(head), message, at_s,
                                              others={self.values_file: restored})
            self.repository.push(reverted)
        except (GitOpsUnavailable, ClusterUnreadable) as error:
            log.error("the deployer could not check its own handover at start: %s", error)
            return None
        log.error("the deployer's handover to %s failed after it took over; reverted to %s in %s", named,
                  self.running, reverted[:12])
        nudge(reverted)
        return reverted
