"""The supervised handover on Kubernetes, end to end but for the cluster: an approved release naming a new deployer
image is committed as a candidate in the deployer's own values file beside the site's, and named the deployer only
once Flux reports the candidate ready (the recorded statuses of the deployer's HelmRelease, served by the stand-in
API server); a candidate that never proves itself fails the release at `handover` and is reverted with it, the
deployer that serves never replaced; a new deployer that fails after taking over is reverted by the old one at its
start. The GitOps repository is a real bare repository behind a real `git daemon`."""

from __future__ import annotations

import json
import subprocess

import pytest

from civitas_deployer import Deployer, Releases
from civitas_deployer.gitops import FluxRunner, FluxStatus, GitOpsRepository
from civitas_deployer.gitops.handover import DeployerRelease
from civitas_deployer.mirror_remote import parse_remote

from ..flux_api import DEPLOYER_RELEASE, NAMESPACE, RELEASE, REPOSITORY
from .test_flux_runner import (DIGEST, TOKEN, VALUES, api, approve, change, clock, gitops, rev,  # noqa: F401
                               show, values)

OWN = "civitas/deployer.json"
OLD = "ghcr.io/town/civitas-deployer@sha256:" + "0d" * 32
NEW = "ghcr.io/town/civitas-deployer@sha256:" + "1e" * 32
DEPLOYER_PATH = f"/apis/helm.toolkit.fluxcd.io/v2/namespaces/{NAMESPACE}/helmreleases/{DEPLOYER_RELEASE}"


def make_deployer(change, live, tmp_path, gitops, api, clock, *, running: str | None = OLD,  # noqa: F811
                  timeout_s: float = 5.0) -> Deployer:
    home = tmp_path / "home"
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    releases = Releases(home / "releases", live.git)
    repository = GitOpsRepository(home / "gitops.git", parse_remote(gitops[0]), "main", VALUES, timeout_s=30)
    status = FluxStatus(api.url, NAMESPACE, RELEASE, REPOSITORY, token, ca_file=None)
    own = DeployerRelease(repository, status, DEPLOYER_RELEASE, OWN, running) if running is not None else None
    runner = FluxRunner(releases, repository, status, timeout_s=timeout_s, poll_s=0.02, clock=lambda: 1_764_000_000,
                        deployer=own)
    return Deployer(change.log, live, change.decisions, releases, runner, clock=clock, health_s=2)


def own_values(bare, ref: str = "main") -> dict | None:
    return json.loads(show(bare, f"{ref}:{OWN}")) if rev(bare, f"{ref}:{OWN}") else None


def images(gateway: str = DIGEST, deployer: str = NEW) -> dict[str, str]:
    return {"deploy/images.toml": f'[images]\ngateway = "{gateway}"\ndeployer = "{deployer}"\n'}


def test_a_new_deployer_image_runs_as_a_candidate_first_and_is_named_the_deployer_once_ready(
        change, live, clone, tmp_path, clock, gitops, api):  # noqa: F811
    url, bare = gitops
    deployer = make_deployer(change, live, tmp_path, gitops, api, clock)
    api.play(("helmrelease-ready", "gitrepository-at-new"))
    api.play_deployer("helmrelease-upgrading", "helmrelease-upgrading", "helmrelease-ready")
    approve(change, clone, tmp_path, clock, images(), "A new deployer")

    (deployment,) = deployer.run()
    assert deployment.phase == "applied" and deployment.incident is None
    commit = live.head()
    # first the site's values and the candidate, beside the deployer that serves (the operator's image so far)
    proving = rev(bare, "main^")
    assert values(bare, proving) == {"release": {"commit": commit, "decision": "decision 1"},
                                     "services": {"gateway": {"image": DIGEST}},  # never the deployer's image
                                     "siteFiles": {"image": OLD}}  # the site pods' fetcher: the deployer that runs
    assert own_values(bare, proving) == {"deployer": {"candidate": {"image": NEW, "commit": commit}}}
    # then, the candidate ready, the proven image as the deployer: only the deployer's own values change
    assert own_values(bare) == {"deployer": {"image": NEW, "commit": commit}}
    assert values(bare) == values(bare, proving)
    message = show(bare, "main")
    assert f"Hand civitas's deployer over to {NEW}" in message and f"Civitas-Release: {commit}" in message
    # Flux was asked to reconcile the deployer's HelmRelease too, and its verdict was read
    assert DEPLOYER_PATH in [p["path"] for p in api.patches]
    assert DEPLOYER_PATH in [path for path, _ in api.requests]


def test_a_candidate_that_never_becomes_ready_fails_the_release_at_handover_and_the_deployer_stays(
        change, live, clone, tmp_path, clock, gitops, api):  # noqa: F811
    url, bare = gitops
    deployer = make_deployer(change, live, tmp_path, gitops, api, clock)
    api.play(("helmrelease-ready", "gitrepository-at-new"))
    approve(change, clone, tmp_path, clock, {"site/front.md": "Welcome\n"}, "Welcome")
    (good,) = deployer.run()
    good_values = values(bare)
    assert own_values(bare) is None  # a release that names no deployer image leaves the deployer's values alone

    api.play_deployer("helmrelease-upgrading", "helmrelease-upgrade-failed", "helmrelease-rolled-back")
    approve(change, clone, tmp_path, clock, images(), "A deployer that never starts")
    (bad,) = deployer.run()
    assert bad.phase == "rolled_back" and bad.incident.phase == "handover"
    assert bad.incident.reason.startswith(f"the candidate deployer {NEW} did not prove itself: ")
    assert "Flux remediated: RollbackSucceeded" in bad.incident.reason
    assert "RetriesExceeded" in bad.incident.log_tail  # the deployer's HelmRelease's conditions
    # reverted together: the site's values and no candidate any more; never named the deployer
    assert values(bare) == good_values and own_values(bare) is None
    assert own_values(bare, "main^") == {"deployer": {"candidate": {"image": NEW, "commit": bad.commit}}}
    log = subprocess_log(bare)
    assert "Hand civitas's deployer over" not in log and f"Civitas-Reverts: {bad.commit}" in log
    assert deployer.run() == []


def test_a_new_deployer_that_fails_after_taking_over_is_reverted_by_the_old_one_at_its_start(
        change, live, clone, tmp_path, clock, gitops, api):  # noqa: F811
    url, bare = gitops
    api.play(("helmrelease-ready", "gitrepository-at-new"))
    api.play_deployer("helmrelease-ready")
    approve(change, clone, tmp_path, clock, images(), "A new deployer")
    (applied,) = make_deployer(change, live, tmp_path, gitops, api, clock).run()
    taken_over = rev(bare, "main")
    assert own_values(bare)["deployer"]["image"] == NEW

    # Flux's verdict on the takeover commit: ready; the new deployer starting finds nothing to do, nor the old one
    make_deployer(change, live, tmp_path, gitops, api, clock, running=NEW).recover()
    make_deployer(change, live, tmp_path, gitops, api, clock, running=OLD).recover()
    assert rev(bare, "main") == taken_over

    # the new deployer failed to start after all: Flux rolled its HelmRelease back, and the old image starts again
    api.play_deployer("helmrelease-rolled-back")
    make_deployer(change, live, tmp_path, gitops, api, clock, running=OLD).recover()
    assert rev(bare, "main^") == taken_over
    assert own_values(bare) == {"deployer": {}}  # the operator's image again: before the handover, no image named
    message = show(bare, "main")
    assert f"Revert the deployer's handover to {NEW}: it failed after taking over" in message
    assert f"Civitas-Reverts-Deployer: {NEW}" in message and "a retry is a new decision" in message
    assert values(bare)["release"]["commit"] == applied.commit  # the site keeps the release
    make_deployer(change, live, tmp_path, gitops, api, clock, running=OLD).recover()  # taken once
    assert rev(bare, "main^") == taken_over


@pytest.mark.parametrize("running, says", [
    (None, "cannot hand over: it runs without its own HelmRelease (CIVITAS_GITOPS_DEPLOYER_HELMRELEASE)"),
    ("", "cannot hand over: it does not know the image it runs (CIVITAS_DEPLOYER_IMAGE)"),
])
def test_a_new_deployer_image_where_no_handover_can_be_made_fails_the_build_saying_so(
        change, live, clone, tmp_path, clock, gitops, api, running, says):  # noqa: F811
    url, bare = gitops
    deployer = make_deployer(change, live, tmp_path, gitops, api, clock, running=running)
    approve(change, clone, tmp_path, clock, images(), "A new deployer")
    (refused,) = deployer.run()
    assert refused.phase == "rolled_back" and refused.incident.phase == "building"
    assert says in refused.incident.reason and NEW in refused.incident.reason
    assert rev(bare, "main") is None


def test_naming_the_image_that_runs_already_hands_nothing_over(
        change, live, clone, tmp_path, clock, gitops, api):  # noqa: F811
    url, bare = gitops
    deployer = make_deployer(change, live, tmp_path, gitops, api, clock)
    api.play(("helmrelease-ready", "gitrepository-at-new"))
    approve(change, clone, tmp_path, clock, images(deployer=OLD), "The same deployer")
    (applied,) = deployer.run()
    assert applied.phase == "applied" and own_values(bare) is None and rev(bare, "main^") is None
    assert DEPLOYER_PATH not in [path for path, _ in api.requests]


def subprocess_log(bare) -> str:
    return subprocess.run(["git", "--git-dir", str(bare), "log", "--format=%B"], capture_output=True, text=True,
                          check=True).stdout
