"""What Flux says of a release the deployer committed to the GitOps repository, read from recorded status objects.

A Kubernetes deployment goes: committed (the values pushed) -> reconciling (Flux fetching the commit, Helm
upgrading) -> applied (the HelmRelease Ready at the committed revision), or failed: the upgrade failed and Flux
rolled it back (Remediated), Flux stalled (retries exhausted, a chart or values it cannot use), or no outcome within
the deployer's timeout. Pure: the objects are the API's JSON as dicts, the time waited is given.

The revision is matched by the chart's version: the HelmRelease's chart is built with `reconcileStrategy: Revision`,
so Flux versions it `<chart version>+<first 12 hex of the GitOps commit>`, which `lastAttemptedRevision` and the
history's `chartVersion` carry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RECONCILING, APPLIED, FAILED = "reconciling", "applied", "failed"
REMEDIATED_REASONS = ("RollbackSucceeded", "UninstallSucceeded", "RollbackFailed", "UninstallFailed")
FAILED_RELEASE_REASONS = ("InstallFailed", "UpgradeFailed", "TestFailed")


@dataclass(frozen=True)
class Outcome:
    """`state` is reconciling, applied or failed; `reason` says why in Flux's words, for the journal."""

    state: str
    reason: str

    @property
    def ended(self) -> bool:
        return self.state != RECONCILING


def chart_revision_of(gitops_commit: str) -> str:
    """The build metadata Flux appends to the chart's version for this GitOps commit."""
    return "+" + gitops_commit[:12]


def condition(obj: dict[str, Any] | None, kind: str) -> dict[str, Any] | None:
    for found in ((obj or {}).get("status") or {}).get("conditions") or []:
        if found.get("type") == kind:
            return found
    return None


def _is(obj, kind: str, status: str = "True") -> bool:
    found = condition(obj, kind)
    return found is not None and found.get("status") == status


def _said(found: dict[str, Any] | None) -> str:
    if found is None:
        return "no condition yet"
    return f"{found.get('type')}={found.get('status')} {found.get('reason', '')}: {found.get('message', '')}".strip()


def source_at(repository: dict[str, Any] | None, gitops_commit: str) -> bool:
    """Whether the GitRepository's artifact is the commit (source.toolkit.fluxcd.io/v1: `BRANCH@sha1:HEX`)."""
    artifact = ((repository or {}).get("status") or {}).get("artifact") or {}
    return str(artifact.get("revision", "")).rpartition(":")[2] == gitops_commit


def outcome(release: dict[str, Any] | None, repository: dict[str, Any] | None, gitops_commit: str, *,
            waited_s: float, timeout_s: float) -> Outcome:
    """Where the release committed as `gitops_commit` stands, by the HelmRelease and GitRepository as recorded."""
    verdict = _verdict(release, repository, gitops_commit)
    if verdict.ended or waited_s < timeout_s:
        return verdict
    return Outcome(FAILED, f"Flux did not report the release within {timeout_s:g} s; last: {verdict.reason}")


def _verdict(release, repository, gitops_commit: str) -> Outcome:
    if release is None:
        return Outcome(RECONCILING, "the HelmRelease does not exist yet")
    status = release.get("status") or {}
    if not source_at(repository, gitops_commit):
        fetched = condition(repository, "Ready")
        return Outcome(RECONCILING, f"the GitRepository has not fetched {gitops_commit[:12]} yet ({_said(fetched)})")
    generation = (release.get("metadata") or {}).get("generation")
    if generation is not None and status.get("observedGeneration", -1) < generation:
        return Outcome(RECONCILING, "helm-controller has not observed the HelmRelease's latest spec yet")
    wanted = chart_revision_of(gitops_commit)
    if not str(status.get("lastAttemptedRevision", "")).endswith(wanted):
        return Outcome(RECONCILING, f"helm-controller has not attempted chart version *{wanted} yet "
                                    f"(last attempted: {status.get('lastAttemptedRevision') or 'none'})")
    released, ready = condition(release, "Released"), condition(release, "Ready")
    if _is(release, "Remediated"):  # Flux rolled the failed upgrade back (or uninstalled a failed install)
        remediated = condition(release, "Remediated")
        cause = _said(released) if released and released.get("status") == "False" else "the release failed"
        return Outcome(FAILED, f"{cause}; Flux remediated: {remediated.get('reason')}: {remediated.get('message', '')}")
    if _is(release, "Stalled"):
        return Outcome(FAILED, f"Flux stalled: {_said(condition(release, 'Stalled'))}; {_said(released)}")
    history = status.get("history") or []
    current = history[0] if history else {}
    if (_is(release, "Ready") and _is(release, "Released") and not _is(release, "Reconciling")
            and str(current.get("chartVersion", "")).endswith(wanted) and current.get("status") == "deployed"):
        return Outcome(APPLIED, f"{ready.get('reason')}: {ready.get('message', '')}")
    if released is not None and released.get("status") == "False" and released.get("reason") in FAILED_RELEASE_REASONS:
        # Flux retries or remediates next; the deployer waits for that, within its timeout
        return Outcome(RECONCILING, f"{_said(released)} (awaiting Flux's remediation)")
    return Outcome(RECONCILING, _said(ready))
