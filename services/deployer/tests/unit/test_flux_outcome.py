"""The Kubernetes deployment's state machine against Flux v2 statuses as helm-controller and source-controller record
them: reconciling until the HelmRelease is Ready at the committed revision; failed when Flux rolled the upgrade back,
stalled, or said nothing conclusive within the timeout."""

from __future__ import annotations

from civitas_deployer.domain.flux import APPLIED, FAILED, RECONCILING, chart_revision_of, outcome, source_at

from ..flux_statuses import NEW, OLD, recorded


def at(release: str, repository: str = "gitrepository-at-new", *, waited_s: float = 10, timeout_s: float = 600):
    return outcome(recorded(release), recorded(repository), NEW, waited_s=waited_s, timeout_s=timeout_s)


def test_the_chart_version_carries_the_gitops_commit_and_the_source_its_revision():
    assert chart_revision_of(NEW) == "+" + NEW[:12]
    assert source_at(recorded("gitrepository-at-new"), NEW)
    assert not source_at(recorded("gitrepository-at-old"), NEW)


def test_until_the_source_has_the_commit_the_release_is_reconciling_even_if_ready_at_the_old_one():
    found = at("helmrelease-before", "gitrepository-at-old")
    assert found.state == RECONCILING and "has not fetched " + NEW[:12] in found.reason


def test_a_source_that_cannot_fetch_says_why_and_fails_only_at_the_timeout():
    waiting = at("helmrelease-before", "gitrepository-auth-failed")
    assert waiting.state == RECONCILING and "authentication required" in waiting.reason
    late = at("helmrelease-before", "gitrepository-auth-failed", waited_s=600)
    assert late.state == FAILED and "within 600 s" in late.reason and "authentication required" in late.reason


def test_ready_at_the_old_revision_is_not_applied_the_new_one_must_be_attempted():
    found = at("helmrelease-before")
    assert found.state == RECONCILING and "not attempted" in found.reason and OLD[:12] in found.reason


def test_an_upgrade_in_progress_is_reconciling():
    found = at("helmrelease-upgrading")
    assert found.state == RECONCILING and "Running 'upgrade' action" in found.reason


def test_ready_at_the_committed_revision_with_it_deployed_in_the_history_is_applied():
    found = at("helmrelease-ready")
    assert found.state == APPLIED and found.ended
    assert found.reason.startswith("UpgradeSucceeded: Helm upgrade succeeded") and NEW[:12] in found.reason


def test_a_newer_spec_not_yet_observed_is_not_applied():
    release = recorded("helmrelease-ready")
    release["metadata"]["generation"] = 4  # the HelmRelease changed since helm-controller last looked
    found = outcome(release, recorded("gitrepository-at-new"), NEW, waited_s=1, timeout_s=600)
    assert found.state == RECONCILING and "not observed" in found.reason


def test_a_failed_upgrade_awaits_flux_remediation_then_fails_with_flux_reason():
    failing = at("helmrelease-upgrade-failed")
    assert failing.state == RECONCILING and "awaiting Flux's remediation" in failing.reason
    rolled_back = at("helmrelease-rolled-back")
    assert rolled_back.state == FAILED
    assert "UpgradeFailed" in rolled_back.reason and "0 of 2 updated replicas are available" in rolled_back.reason
    assert "Flux remediated: RollbackSucceeded: Helm rollback to previous release civitas/civitas-site.v2" \
        in rolled_back.reason


def test_a_stalled_release_fails_at_once_with_what_flux_says():
    found = at("helmrelease-stalled")
    assert found.state == FAILED and found.reason.startswith("Flux stalled: Stalled=True RetriesExceeded")
    assert "values don't meet the specifications of the schema" in found.reason


def test_nothing_conclusive_within_the_timeout_fails_as_a_hang():
    found = at("helmrelease-upgrading", waited_s=600, timeout_s=600)
    assert found.state == FAILED and found.reason.startswith("Flux did not report the release within 600 s")
    assert outcome(None, None, NEW, waited_s=1, timeout_s=600).state == RECONCILING


def test_an_applied_release_stays_applied_past_the_timeout():
    assert at("helmrelease-ready", waited_s=10_000).state == APPLIED
