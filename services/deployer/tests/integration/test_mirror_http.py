"""The deployer on its own pushes what it deployed to its mirrors once the health window passed, and its
GET /deployments says where each mirror stands; the tag on the mirror verifies with the site's key."""

from __future__ import annotations

import subprocess
import time

import httpx
import pytest

from civitas_kernel.signing import SiteKey
from civitas_deployer.tag_signing import allowed_signers_line

from .test_http import approve_front_page, deployer  # noqa: F401 - the deployer served in a thread

MIRROR = "mirror.git"


@pytest.fixture
def mirror_urls(tmp_path, monkeypatch) -> str:
    """CIVITAS_MIRROR_URLS for the deployer made after it: a bare repository, one nobody answers at, one refusing."""
    good, refusing = tmp_path / MIRROR, tmp_path / "refusing.git"
    for repo in (good, refusing):
        subprocess.run(["git", "init", "--quiet", "--bare", str(repo)], check=True)
    (refusing / "hooks" / "pre-receive").write_text("#!/bin/sh\necho 'read-only today' >&2\nexit 1\n")
    (refusing / "hooks" / "pre-receive").chmod(0o755)
    urls = f"{good},https://pusher:s3cret@127.0.0.1:1/site.git,{refusing}"
    monkeypatch.setenv("CIVITAS_MIRROR_URLS", urls)
    return urls


@pytest.mark.parametrize("deployer", [{"DEPLOY_EVERY_S": 0.1, "DEPLOY_HEALTH_S": 5}], indirect=True)
def test_what_the_deployer_deployed_reaches_its_mirrors_and_get_deployments_shows_them(
        mirror_urls, deployer, tmp_path):  # noqa: F811
    url, settings, later = deployer
    before = {m["url"]: m for m in httpx.get(url + "/deployments").json()["mirrors"]}
    assert {m["state"] for m in before.values()} == {"never"} and len(before) == 3
    assert "https://127.0.0.1:1/site.git" in before and not any("s3cret" in u for u in before)
    approve_front_page(url, settings, later, tmp_path, "Mirrored\n")
    deadline = time.monotonic() + 60
    while True:
        shown = httpx.get(url + "/deployments").json()
        mirrors = {m["url"]: m for m in shown["mirrors"]}
        if shown["deployments"] and all(m["last_attempt_us"] for m in mirrors.values()):
            break
        assert time.monotonic() < deadline, shown
        time.sleep(0.1)
    (deployment,) = shown["deployments"]
    assert deployment["phase"] == "applied"
    good = mirrors[str(tmp_path / MIRROR)]
    assert good["state"] == "ok" and good["pushed_commit"] == deployment["commit"]
    assert mirrors[str(tmp_path / "refusing.git")]["state"] == "retrying"
    assert "read-only today" in mirrors[str(tmp_path / "refusing.git")]["error"]
    assert "s3cret" not in httpx.get(url + "/deployments").text
    signers = tmp_path / "allowed_signers"
    signers.write_text(allowed_signers_line("localhost", SiteKey.load_or_create(settings.key_file).public_key) + "\n")
    verify = subprocess.run(["git", "--git-dir", str(tmp_path / MIRROR), "-c",
                             f"gpg.ssh.allowedSignersFile={signers}", "verify-tag", good["tag"]], capture_output=True)
    assert verify.returncode == 0, verify.stderr
