"""The candidate deployer at a Kubernetes handover, as its pod runs it (`python -m civitas_deployer.gitops.candidate`,
a real process, with the environment the chart gives the deployer): against the deployment journal of a real
deployment, the GitOps repository behind a real `git daemon` and the stand-in API server, it becomes ready saying
what it read and writes nothing; without the site's key, or refused by the API, it never becomes ready and says why."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from civitas_kernel.signing import SiteKey
from civitas_kernel.testing.ports import free_port

from ..flux_api import DEPLOYER_RELEASE, NAMESPACE, RELEASE, REPOSITORY
from .test_flux_runner import TOKEN, api, approve, change, clock, gitops, make_deployer, rev  # noqa: F401

DEPLOYER_PATH = f"/apis/helm.toolkit.fluxcd.io/v2/namespaces/{NAMESPACE}/helmreleases/{DEPLOYER_RELEASE}"


@pytest.fixture
def deployed(change, live, clone, tmp_path, clock, gitops, api):  # noqa: F811
    """One release deployed by the deployer that serves: its journal holds the deployment."""
    api.play(("helmrelease-ready", "gitrepository-at-new"))
    approve(change, clone, tmp_path, clock, {"site/front.md": "Welcome\n"}, "Welcome")
    (applied,) = make_deployer(change, live, tmp_path, gitops, api, clock).run()
    assert applied.phase == "applied"
    return change.log


def candidate_env(log, gitops, api, tmp_path, key: bool = True) -> dict[str, str]:  # noqa: F811
    """The deployer's environment, with the site's key (the one its journal is sealed with)."""
    home = tmp_path / "candidate-home"
    home.mkdir(exist_ok=True)
    key_file = home / "site-key.pem"
    if key:
        key_file.write_bytes(log.key.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    token = tmp_path / "candidate-token"
    token.write_text(TOKEN)
    return {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "CIVITAS_SITE": "alpha.example.org",
            "CIVITAS_HOME": str(home), "CIVITAS_KEY_FILE": str(key_file),
            "CIVITAS_LOG_URL": log.engine.url.render_as_string(hide_password=False),
            "CIVITAS_DEPLOY_MODE": "kubernetes", "CIVITAS_GITOPS_URL": gitops[0], "CIVITAS_KUBE_API": api.url,
            "CIVITAS_KUBE_TOKEN_FILE": str(token), "CIVITAS_KUBE_CA_FILE": str(tmp_path / "no-ca.crt"),
            "CIVITAS_GITOPS_NAMESPACE": NAMESPACE, "CIVITAS_GITOPS_HELMRELEASE": RELEASE,
            "CIVITAS_GITOPS_GITREPOSITORY": REPOSITORY, "CIVITAS_GITOPS_DEPLOYER_HELMRELEASE": DEPLOYER_RELEASE}


def test_a_candidate_that_can_do_what_a_deployer_needs_becomes_ready_and_writes_nothing(
        deployed, gitops, api, tmp_path):  # noqa: F811
    url, bare = gitops
    journal, head = deployed.head("deployment").seq, rev(bare, "main")
    assert journal > 0
    api.play_deployer("helmrelease-ready")
    api.requests.clear()
    patched = len(api.patches)
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "civitas_deployer.gitops.candidate", "--port", str(port),
                                "--host", "127.0.0.1"], env=candidate_env(deployed, gitops, api, tmp_path),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stderr.read()
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the candidate never answered"
                time.sleep(0.1)
        assert answer.status_code == 200
        said = answer.json()
        assert said["ready"] is True and said["journal"] == journal and said["helmrelease"] == DEPLOYER_RELEASE
        assert said["version"] not in ("", None)
        assert (DEPLOYER_PATH, f"Bearer {TOKEN}") in api.requests  # its HelmRelease, read as the deployer's account
    finally:
        process.terminate()
        process.wait(10)
    assert deployed.head("deployment").seq == journal and rev(bare, "main") == head  # nothing written
    assert api.patches[patched:] == []  # nor asked Flux for anything


@pytest.mark.parametrize("case, says", [
    ("no key", "not ready: reading the site's key: "),
    ("refused", "not ready: reading its HelmRelease: ClusterUnreadable: the Kubernetes API answered 403"),
    ("another key", "not ready: reading the deployment journal: IntegrityError: "),  # not the site's
])
def test_a_candidate_that_cannot_never_becomes_ready_and_says_why(
        deployed, gitops, api, tmp_path, case, says):  # noqa: F811
    api.refuse_with = 403 if case == "refused" else None
    head = rev(gitops[1], "main")
    environment = candidate_env(deployed, gitops, api, tmp_path, key=case != "no key")
    if case == "another key":
        Path(environment["CIVITAS_KEY_FILE"]).write_bytes(SiteKey.generate().private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    done = subprocess.run([sys.executable, "-m", "civitas_deployer.gitops.candidate", "--port", str(free_port())],
                          env=environment, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and says in done.stderr and "Traceback" not in done.stderr
    assert TOKEN not in done.stderr
    if case == "no key":
        assert not os.path.exists(environment["CIVITAS_KEY_FILE"])  # never made by a candidate
    assert rev(gitops[1], "main") == head  # the repository as the deployer left it
