"""The deployer service in Kubernetes mode (CIVITAS_DEPLOY_MODE=kubernetes), as the chart starts it: an approved
decision reaches the GitOps repository behind a real `git daemon`, and Flux's verdict, served by a stand-in for the
Kubernetes API with recorded statuses, is what GET /deployments says."""

from __future__ import annotations

import json
import subprocess
import time

import httpx
import pytest

from ..flux_api import NAMESPACE, RELEASE, REPOSITORY, FluxApi, serve_flux_api
from .test_http import approve_front_page, deployer  # noqa: F401 - the deployer served in a thread

TOKEN = "service-account-token-for-the-deployer"


def head(bare, name: str = "main") -> str | None:
    done = subprocess.run(["git", "--git-dir", str(bare), "rev-parse", "--verify", "--quiet", name],
                          capture_output=True, text=True)
    return done.stdout.strip() or None


@pytest.fixture
def kubernetes_mode(tmp_path, git_push_daemon, monkeypatch):
    """The environment the chart gives the deployer in Kubernetes mode; (the GitOps bare repository, the API)."""
    url, served = git_push_daemon
    bare = served / "gitops.git"
    subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch=main", str(bare)], check=True)
    api = FluxApi(TOKEN, lambda: (head(bare) or "0" * 40, head(bare, "main^") or "0" * 40))
    token = tmp_path / "token"
    token.write_text(TOKEN)
    with serve_flux_api(api) as api_url:
        for name, value in {"DEPLOY_MODE": "kubernetes", "GITOPS_URL": f"{url}/gitops.git", "KUBE_API": api_url,
                            "KUBE_TOKEN_FILE": str(token), "KUBE_CA_FILE": str(tmp_path / "no-ca.crt"),
                            "GITOPS_NAMESPACE": NAMESPACE, "GITOPS_HELMRELEASE": RELEASE,
                            "GITOPS_GITREPOSITORY": REPOSITORY, "GITOPS_TIMEOUT_S": "30"}.items():
            monkeypatch.setenv(f"CIVITAS_{name}", value)
        yield bare, api


@pytest.mark.parametrize("deployer", [{"DEPLOY_EVERY_S": 0.1}], indirect=True)
def test_the_service_commits_an_approved_release_and_reports_what_flux_said(
        kubernetes_mode, deployer, tmp_path):  # noqa: F811
    bare, api = kubernetes_mode
    url, settings, later = deployer
    api.play(("helmrelease-upgrading", "gitrepository-at-new"), ("helmrelease-rolled-back", "gitrepository-at-new"))
    approve_front_page(url, settings, later, tmp_path, "Served by Flux\n")
    deadline = time.monotonic() + 60
    while (shown := httpx.get(url + "/deployments").json())["deployments"] == [] or \
            shown["deployments"][0]["ended_us"] is None:
        assert time.monotonic() < deadline, shown
        time.sleep(0.2)
    (deployment,) = shown["deployments"]
    assert deployment["phase"] == "rolled_back" and deployment["incident"]["phase"] == "health"
    assert "Flux remediated: RollbackSucceeded" in deployment["incident"]["reason"]
    pushed = json.loads(subprocess.run(["git", "--git-dir", str(bare), "show", "main^:civitas/release.json"],
                                       capture_output=True, check=True, text=True).stdout)
    assert pushed["release"] == {"commit": deployment["commit"], "decision": "decision 1"}
    first = json.loads(subprocess.run(["git", "--git-dir", str(bare), "show", "main:civitas/release.json"],
                                      capture_output=True, check=True, text=True).stdout)
    assert first["release"]["commit"] != deployment["commit"]  # reverted to the site's first release
    assert first["release"] == json.loads(subprocess.run(
        ["git", "--git-dir", str(bare), "show", "main~2:civitas/release.json"], capture_output=True, check=True,
        text=True).stdout)["release"]
    assert TOKEN not in httpx.get(url + "/deployments").text


@pytest.mark.parametrize("deployer", [{"DEPLOY_EVERY_S": 0.1}], indirect=True)
def test_the_service_gives_flux_the_sites_first_release_so_the_first_vote_is_served(
        kubernetes_mode, deployer):  # noqa: F811
    bare, api = kubernetes_mode
    url, settings, later = deployer
    deadline = time.monotonic() + 30
    while head(bare) is None:  # an empty GitOps repository: Flux could not render the site, no gateway would run
        assert time.monotonic() < deadline, "the first release never reached the GitOps repository"
        time.sleep(0.1)
    live = httpx.get(url + "/deployments").json()["live"]["commit"]
    values = json.loads(subprocess.run(["git", "--git-dir", str(bare), "show", "main:civitas/release.json"],
                                       capture_output=True, check=True, text=True).stdout)
    assert values["release"] == {"commit": live, "decision": ""} and values["services"] == {}
    assert head(bare, "main^") is None  # one commit, once: later rounds find the values there
    time.sleep(0.5)
    assert head(bare, "main^") is None and head(bare) is not None
    assert [p["path"].rsplit("/", 2)[1] for p in api.patches[:2]] == ["gitrepositories", "helmreleases"]
