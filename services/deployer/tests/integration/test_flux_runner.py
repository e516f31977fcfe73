"""Kubernetes mode end to end but for the cluster: the engine deploys an approved decision by committing its values
to a GitOps repository (a real bare repository behind a real `git daemon` on loopback) and reads Flux's verdict from
a small HTTP server giving recorded HelmRelease and GitRepository statuses in place of the Kubernetes API server.
A failed release is reverted in the GitOps repository by one recorded commit, and never committed again by itself."""

from __future__ import annotations

import functools
import json
import logging
import subprocess
import time
from datetime import datetime

import pytest

from civitas_deployer import ChangeCommands, DecisionRecords, Deployer, DeploymentReads, Releases
from civitas_deployer.gitops import FluxRunner, FluxStatus, GitOpsRepository, GitOpsSettings
from civitas_deployer.mirror_remote import parse_remote

from ..flux_api import NAMESPACE, RELEASE, REPOSITORY, FluxApi, serve_flux_api
from ..sites import ALICE, BOB, CAROL, DAVE, Clock, patch_file

TOKEN = "eyJhbGciOiJSUzI1NiJ9.service-account-token.signature"
VALUES = "civitas/release.json"
DIGEST = "ghcr.io/town/civitas-gateway@sha256:" + "4f" * 32


class Killed(BaseException):
    """The deployer's process killed at a phase: nothing after it runs, as with SIGKILL."""


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def change(make_clocked_log, live, lists, clock, tmp_path) -> ChangeCommands:
    log = make_clocked_log(clock)
    decisions = DecisionRecords(tmp_path / "records", log, clock)
    commands = ChangeCommands(log, live, lists, clock=clock, decisions=decisions,
                              deployments=DeploymentReads(log, Releases(tmp_path / "home" / "releases", live.git)))
    commands.run = functools.partial(commands.run, local=True)
    return commands


@pytest.fixture
def gitops(git_push_daemon):
    """(the GitOps repository's git:// URL, its bare repository as the daemon serves it)."""
    url, served = git_push_daemon
    bare = served / "gitops.git"
    subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch=main", str(bare)], check=True)
    return f"{url}/gitops.git", bare


def rev(bare, name: str) -> str | None:
    done = subprocess.run(["git", "--git-dir", str(bare), "rev-parse", "--verify", "--quiet", name],
                          capture_output=True, text=True)
    return done.stdout.strip() or None


def show(bare, what: str) -> str:
    return subprocess.run(["git", "--git-dir", str(bare), "show", what], capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture
def api(gitops, tmp_path):
    bare = gitops[1]
    flux = FluxApi(TOKEN, lambda: (rev(bare, "main") or "0" * 40, rev(bare, "main^") or "0" * 40))
    with serve_flux_api(flux) as url:
        flux.url = url
        yield flux


def make_deployer(change, live, tmp_path, gitops, api, clock, *, timeout_s=5.0, hold=None) -> Deployer:
    home = tmp_path / "home"
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    releases = Releases(home / "releases", live.git)
    repository = GitOpsRepository(home / "gitops.git", parse_remote(gitops[0]), "main", VALUES, timeout_s=30)
    status = FluxStatus(api.url, NAMESPACE, RELEASE, REPOSITORY, token, ca_file=None)
    runner = FluxRunner(releases, repository, status, timeout_s=timeout_s, poll_s=0.02, clock=lambda: 1_764_000_000)
    return Deployer(change.log, live, change.decisions, releases, runner, clock=clock, health_s=2, hold=hold)


def approve(change, clone, tmp_path, clock, files: dict[str, str], title: str) -> str:
    path = patch_file(clone, tmp_path, title.replace(" ", "-"), files, message=title)
    pid = change.run(ALICE, ["propose", "--patch", path, "--title", title]).data["proposal"]
    clock.hours(48)
    for voter in (BOB, CAROL, DAVE):
        change.run(voter, ["vote", pid, "yes"])
    clock.hours(168)
    change.decide()
    return pid


def values(bare, ref: str = "main") -> dict:
    return json.loads(show(bare, f"{ref}:{VALUES}"))


def test_an_approved_release_is_committed_to_the_gitops_repository_and_applied_when_flux_is_ready(
        change, live, clone, tmp_path, clock, gitops, api):
    url, bare = gitops
    deployer = make_deployer(change, live, tmp_path, gitops, api, clock)
    api.play(("helmrelease-before", "gitrepository-at-old"), ("helmrelease-upgrading", "gitrepository-at-new"),
             ("helmrelease-ready", "gitrepository-at-new"))
    approve(change, clone, tmp_path, clock, {"deploy/images.toml": f'[images]\ngateway = "{DIGEST}"\n'},
            "A new gateway image")

    (deployment,) = deployer.run()
    assert deployment.phase == "applied" and deployment.incident is None
    commit = live.head()
    assert values(bare) == {"release": {"commit": commit, "decision": "decision 1"},
                            "services": {"gateway": {"image": DIGEST}}}
    message = show(bare, "main")
    assert f"Civitas-Release: {commit}" in message and "Civitas-Decision: decision 1" in message
    assert rev(bare, "main^") is None  # the repository's first commit: one file, written by the deployer
    # the outcome was read as the service account, from the HelmRelease and the GitRepository of helm/source v2/v1
    paths = {path for path, _ in api.requests}
    assert paths == {f"/apis/helm.toolkit.fluxcd.io/v2/namespaces/{NAMESPACE}/helmreleases/{RELEASE}",
                     f"/apis/source.toolkit.fluxcd.io/v1/namespaces/{NAMESPACE}/gitrepositories/{REPOSITORY}"}
    assert {auth for _, auth in api.requests} == {f"Bearer {TOKEN}"}
    shown = change.deployments().data["deployments"][0]
    assert shown["phase"] == "applied" and shown["kind"] == "code"

    # a content release later keeps the image and moves only the commit
    api.play(("helmrelease-ready", "gitrepository-at-new"))
    approve(change, clone, tmp_path, clock, {"site/front.md": "Hello\n"}, "A front page")
    (second,) = deployer.run()
    assert second.phase == "applied"
    assert values(bare) == {"release": {"commit": live.head(), "decision": "decision 2"},
                            "services": {"gateway": {"image": DIGEST}}}
    assert deployer.run() == []


GITREPOSITORY_PATH = f"/apis/source.toolkit.fluxcd.io/v1/namespaces/{NAMESPACE}/gitrepositories/{REPOSITORY}"
HELMRELEASE_PATH = f"/apis/helm.toolkit.fluxcd.io/v2/namespaces/{NAMESPACE}/helmreleases/{RELEASE}"


def requested_at(patch: dict) -> float:
    """The reconcile request's time, checking the patch is what `flux reconcile` sends: a JSON merge patch of one
    annotation, an RFC 3339 time, as the service account."""
    assert patch["content_type"] == "application/merge-patch+json"
    assert patch["authorization"] == f"Bearer {TOKEN}"
    (annotation, value), = patch["body"]["metadata"]["annotations"].items()
    assert patch["body"] == {"metadata": {"annotations": {annotation: value}}}
    assert annotation == "reconcile.fluxcd.io/requestedAt"
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def test_after_each_push_flux_is_asked_to_fetch_and_reconcile_at_once(
        change, live, clone, tmp_path, clock, gitops, api):
    url, bare = gitops
    deployer = make_deployer(change, live, tmp_path, gitops, api, clock)
    api.play(("helmrelease-ready", "gitrepository-at-new"))
    before = time.time()
    approve(change, clone, tmp_path, clock, {"site/front.md": "Welcome\n"}, "Welcome")
    (applied,) = deployer.run()
    assert applied.phase == "applied"
    # the GitRepository first (source-controller fetches the pushed commit), then the HelmRelease
    assert [p["path"] for p in api.patches] == [GITREPOSITORY_PATH, HELMRELEASE_PATH]
    first = [requested_at(p) for p in api.patches]
    assert before - 1 <= first[0] <= first[1] <= time.time() + 1

    api.play(("helmrelease-rolled-back", "gitrepository-at-new"))
    approve(change, clone, tmp_path, clock, {"site/front.md": "Broken\n"}, "Broken")
    (failed,) = deployer.run()
    assert failed.phase == "rolled_back"
    # the failed release's push, then its revert's: each asked for again, each with a new value (Flux reconciles
    # only when the annotation's value differs from the last it handled)
    assert [p["path"] for p in api.patches[2:]] == [GITREPOSITORY_PATH, HELMRELEASE_PATH] * 2
    values_sent = [p["body"]["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"] for p in api.patches]
    assert len(set(values_sent[0::2])) == 3
    assert f"Civitas-Reverts: {failed.commit}" in show(bare, "main")


def test_a_reconcile_request_the_role_refuses_is_a_warning_and_the_release_still_deploys_on_flux_interval(
        change, live, clone, tmp_path, clock, gitops, api, caplog):
    url, bare = gitops
    deployer = make_deployer(change, live, tmp_path, gitops, api, clock)
    api.refuse_patches_with = 403
    api.play(("helmrelease-before", "gitrepository-at-old"), ("helmrelease-ready", "gitrepository-at-new"))
    approve(change, clone, tmp_path, clock, {"site/front.md": "Welcome\n"}, "Welcome")
    with caplog.at_level(logging.WARNING, logger="civitas.deployer.gitops"):
        (applied,) = deployer.run()
    assert applied.phase == "applied" and applied.incident is None
    assert values(bare)["release"]["commit"] == applied.commit
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 2 and all("it will at its interval" in w for w in warned)
    assert "answered 403 for the patch of GitRepository civitas/civitas-gitops" in warned[0]
    assert "answered 403 for the patch of HelmRelease civitas/civitas-site" in warned[1]
    assert TOKEN not in " ".join(warned)

    api.play(("helmrelease-rolled-back", "gitrepository-at-new"))  # a failure says it was not asked at once
    approve(change, clone, tmp_path, clock, {"site/front.md": "Broken\n"}, "Broken")
    (failed,) = deployer.run()
    assert failed.phase == "rolled_back"
    assert "not reconciled at once: the Kubernetes API answered 403" in failed.incident.log_tail


def test_an_upgrade_flux_rolled_back_fails_with_flux_reason_and_is_reverted_once_never_retried(
        change, live, clone, tmp_path, clock, gitops, api):
    url, bare = gitops
    deployer = make_deployer(change, live, tmp_path, gitops, api, clock)
    api.play(("helmrelease-ready", "gitrepository-at-new"))
    approve(change, clone, tmp_path, clock, {"site/front.md": "Welcome\n"}, "Welcome")
    (good,) = deployer.run()
    good_values, good_gitops = values(bare), rev(bare, "main")

    api.play(("helmrelease-upgrading", "gitrepository-at-new"), ("helmrelease-upgrade-failed", "gitrepository-at-new"),
             ("helmrelease-rolled-back", "gitrepository-at-new"))
    approve(change, clone, tmp_path, clock, {"deploy/images.toml": f'[images]\ngateway = "{DIGEST}"\n'},
            "A gateway that never becomes ready")
    (bad,) = deployer.run()
    assert bad.phase == "rolled_back" and bad.incident.phase == "health"
    assert "Helm upgrade failed" in bad.incident.reason
    assert "0 of 2 updated replicas are available" in bad.incident.reason
    assert "Flux remediated: RollbackSucceeded" in bad.incident.reason
    assert "RetriesExceeded" in bad.incident.log_tail  # the HelmRelease's conditions as last read
    assert TOKEN not in bad.incident.reason + bad.incident.log_tail

    # the GitOps repository: the failed values, then a revert to the good ones on top, its message saying why
    pushed = rev(bare, "main^")
    assert rev(bare, "main^^") == good_gitops and values(bare, pushed)["release"]["commit"] == bad.commit
    assert values(bare) == good_values
    revert_message = show(bare, "main")
    assert f"Revert civitas {bad.commit[:12]}" in revert_message and "a retry is a new decision" in revert_message
    assert f"Civitas-Reverts: {bad.commit}" in revert_message
    # the live repository is reverted too, as for every runner
    assert live.head() == bad.revert and live.git.out("rev-parse", f"{bad.revert}^{{tree}}") == \
        live.git.out("rev-parse", f"{good.commit}^{{tree}}")

    head = rev(bare, "main")
    assert deployer.run() == [] and rev(bare, "main") == head  # nothing commits the failed values again
    deployer._roll_back(bad)  # a rollback taken twice (after a crash) adds no second revert
    assert rev(bare, "main") == head


def test_a_stalled_release_and_one_flux_never_reports_on_fail_and_are_reverted(
        change, live, clone, tmp_path, clock, gitops, api):
    url, bare = gitops
    deployer = make_deployer(change, live, tmp_path, gitops, api, clock, timeout_s=0.5)
    api.play(("helmrelease-ready", "gitrepository-at-new"))
    approve(change, clone, tmp_path, clock, {"site/front.md": "Welcome\n"}, "Welcome")
    deployer.run()
    good_values = values(bare)

    api.play(("helmrelease-stalled", "gitrepository-at-new"))
    approve(change, clone, tmp_path, clock, {"site/front.md": "Stalled\n"}, "Values the chart refuses")
    (stalled,) = deployer.run()
    assert stalled.phase == "rolled_back" and stalled.incident.reason.startswith("Flux stalled: Stalled=True")
    assert "values don't meet the specifications of the schema" in stalled.incident.reason
    assert values(bare) == good_values

    api.play(("helmrelease-before", "gitrepository-auth-failed"))
    approve(change, clone, tmp_path, clock, {"site/front.md": "Unfetched\n"}, "A commit Flux cannot fetch")
    (hung,) = deployer.run()
    assert hung.phase == "rolled_back"
    assert hung.incident.reason.startswith("Flux did not report the release within 0.5 s")
    assert "authentication required" in hung.incident.reason
    assert values(bare) == good_values


def test_an_api_that_refuses_the_service_account_fails_the_release_saying_so(
        change, live, clone, tmp_path, clock, gitops, api):
    url, bare = gitops
    deployer = make_deployer(change, live, tmp_path, gitops, api, clock, timeout_s=0.3)
    api.play(("helmrelease-ready", "gitrepository-at-new"))
    api.refuse_with = 403
    approve(change, clone, tmp_path, clock, {"site/front.md": "Welcome\n"}, "Welcome")
    (refused,) = deployer.run()
    assert refused.phase == "rolled_back"
    assert "answered 403 for HelmRelease civitas/civitas-site" in refused.incident.reason
    assert "is forbidden" in refused.incident.reason
    # the first release's values pushed, then reverted: before it the repository had no values file
    assert values(bare, "main^")["release"]["commit"] == refused.commit and rev(bare, f"main:{VALUES}") is None


def test_bad_images_fail_the_build_and_nothing_reaches_the_gitops_repository(
        change, live, clone, tmp_path, clock, gitops, api):
    url, bare = gitops
    deployer = make_deployer(change, live, tmp_path, gitops, api, clock)
    approve(change, clone, tmp_path, clock, {"deploy/images.toml": '[images]\ngateway = "ghcr.io/town/gw:latest"\n'},
            "A gateway image by tag")
    (tagged,) = deployer.run()
    assert tagged.phase == "rolled_back" and tagged.incident.phase == "building"
    assert "is not an image by digest" in tagged.incident.reason and "never a tag" in tagged.incident.reason
    assert rev(bare, "main") is None and api.requests == []


def test_a_deployer_killed_after_the_push_reverts_the_gitops_repository_when_it_starts_again(
        change, live, clone, tmp_path, clock, gitops, api):
    url, bare = gitops
    api.play(("helmrelease-ready", "gitrepository-at-new"))
    first = make_deployer(change, live, tmp_path, gitops, api, clock)
    approve(change, clone, tmp_path, clock, {"site/front.md": "Welcome\n"}, "Welcome")
    first.run()
    good_values = values(bare)

    def kill_at_health(phase: str) -> None:
        if phase == "health":
            raise Killed()

    api.play(("helmrelease-upgrading", "gitrepository-at-new"))
    killed = make_deployer(change, live, tmp_path, gitops, api, clock, hold=kill_at_health)
    approve(change, clone, tmp_path, clock, {"site/front.md": "Interrupted\n"}, "Interrupted")
    with pytest.raises(Killed):
        killed.run()
    assert values(bare)["release"]["commit"] == live.head()  # pushed; Flux would now be upgrading

    again = make_deployer(change, live, tmp_path, gitops, api, clock)
    again.recover()
    (interrupted,) = [d for d in again.state.deployments.values() if d.id == "2"]
    assert interrupted.phase == "rolled_back" and "stopped during health" in interrupted.incident.reason
    assert values(bare) == good_values and f"Civitas-Reverts: {interrupted.commit}" in show(bare, "main")
    assert again.run() == []


def test_the_settings_need_a_gitops_url_in_kubernetes_mode_and_never_show_its_token(monkeypatch):
    monkeypatch.setenv("CIVITAS_DEPLOY_MODE", "kubernetes")
    monkeypatch.setenv("CIVITAS_KUBE_API", "https://10.0.0.1:443")
    with pytest.raises(ValueError, match="needs CIVITAS_GITOPS_URL"):
        GitOpsSettings()
    monkeypatch.setenv("CIVITAS_GITOPS_URL", "https://civitas:s3cret-token@git.example.org/town/gitops.git")
    settings = GitOpsSettings()
    assert settings.remote.url == "https://git.example.org/town/gitops.git"
    assert "s3cret-token" not in repr(settings) and "s3cret-token" not in repr(settings.remote)
    monkeypatch.setenv("CIVITAS_GITOPS_URL", "ftp://git.example.org/gitops")
    with pytest.raises(ValueError, match="GitOps URL"):
        GitOpsSettings()


def test_a_revert_the_gitops_repository_refuses_is_taken_again_at_the_next_round(
        change, live, clone, tmp_path, clock, gitops, api):
    url, bare = gitops
    api.play(("helmrelease-ready", "gitrepository-at-new"))
    approve(change, clone, tmp_path, clock, {"site/front.md": "Welcome\n"}, "Welcome")
    make_deployer(change, live, tmp_path, gitops, api, clock).run()
    good_values = values(bare)
    hook = bare / "hooks" / "pre-receive"

    def refuse_pushes_while_rolling_back(phase: str) -> None:
        if phase == "rolling_back":  # the remote refuses from now on, as a repository down or read-only would
            hook.write_text("#!/bin/sh\necho 'the repository is read-only for maintenance' >&2\nexit 1\n")
            hook.chmod(0o755)

    api.play(("helmrelease-rolled-back", "gitrepository-at-new"))
    deployer = make_deployer(change, live, tmp_path, gitops, api, clock, hold=refuse_pushes_while_rolling_back)
    approve(change, clone, tmp_path, clock, {"site/front.md": "Broken\n"}, "Broken")
    with pytest.raises(RuntimeError, match="did not reach the GitOps repository: .*read-only for maintenance"):
        deployer.run()
    (unfinished,) = deployer.state.unfinished()
    assert unfinished.incident is not None and values(bare)["release"]["commit"] == unfinished.commit

    hook.unlink()
    assert deployer.run() == []  # the next round finishes the rollback, deploying nothing new
    assert deployer.state.deployments[unfinished.id].phase == "rolled_back"
    assert values(bare) == good_values and f"Civitas-Reverts: {unfinished.commit}" in show(bare, "main")
