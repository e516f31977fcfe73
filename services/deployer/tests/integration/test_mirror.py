"""The off-site mirrors, over real git: a bare repository, a `git daemon` on loopback, one that refuses, one that is
down and comes back; the tag checked with `git verify-tag` against the site's key."""

from __future__ import annotations

import base64
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from civitas_kernel.signing import SiteKey
from civitas_kernel.testing.git import serve_git
from civitas_kernel.testing.ports import free_port
from civitas_deployer.live_repo import LiveRepository
from civitas_deployer.mirror import Mirrors
from civitas_deployer.mirror_state import RETRY_FIRST_S, RETRY_MAX_S, retry_wait_s
from civitas_deployer.tag_signing import allowed_signers_line

from ..git_repos import T0

S = 1_000_000  # microseconds in a second


class Clock:
    def __init__(self) -> None:
        self.us = T0

    def __call__(self) -> int:
        return self.us


def bare(path: Path) -> Path:
    subprocess.run(["git", "init", "--quiet", "--bare", str(path)], check=True)
    return path


def refusing(path: Path) -> Path:
    """A bare repository whose pre-receive hook refuses every push."""
    bare(path)
    hook = path / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'pushes are closed today' >&2\nexit 1\n")
    hook.chmod(0o755)
    return path


def ref(repo: Path, name: str) -> str | None:
    done = subprocess.run(["git", "--git-dir", str(repo), "rev-parse", "--verify", "--quiet", name],
                          capture_output=True, text=True)
    return done.stdout.strip() or None


def next_commit(live: LiveRepository, text: str) -> str:
    """A new commit on the live main (as a deployment makes one), not yet verified."""
    blob = live.git.out("hash-object", "-w", "--stdin", input=text.encode())
    tree = live.git.out("mktree", input=f"100644 blob {blob}\tfront.md\n".encode())
    commit = live.git.out("commit-tree", tree, "-p", live.head(), "-m", text,
                          env={"GIT_AUTHOR_NAME": "civitas", "GIT_AUTHOR_EMAIL": "civitas@localhost"})
    live.git.run("update-ref", "refs/heads/main", commit)
    return commit


def verifies(repo: Path, tag: str, signers: Path) -> bool:
    return subprocess.run(["git", "--git-dir", str(repo), "-c", f"gpg.ssh.allowedSignersFile={signers}",
                           "verify-tag", tag], capture_output=True).returncode == 0


@pytest.fixture
def key() -> SiteKey:
    return SiteKey.generate()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def mirrors_of(live, urls, key, tmp_path, clock) -> Mirrors:
    return Mirrors(live.path, urls, key, tmp_path / "mirrors.json", site="alpha.example.org", now=clock)


def by_url(mirrors: Mirrors) -> dict[str, dict]:
    return {row["url"]: row for row in mirrors.state()}


def test_a_verified_release_reaches_a_bare_repository_and_a_git_daemon_with_a_tag_the_site_key_verifies(
        live, key, clock, tmp_path, git_push_daemon):
    daemon_url, served = git_push_daemon
    bare(served / "site.git")
    local = bare(tmp_path / "mirror.git")
    urls = f"{local}, {daemon_url}/site.git"
    mirrors = mirrors_of(live, urls, key, tmp_path, clock)
    assert {r["state"] for r in mirrors.state()} == {"never"}
    commit = live.head()

    mirrors.verified(commit, "release-1", "release 1: the first rules")
    assert ref(local, "refs/heads/main") is None  # verified() only records what is due
    assert mirrors.push_due() == {str(local): None, f"{daemon_url}/site.git": None}

    for repo in (local, served / "site.git"):
        assert ref(repo, "refs/heads/main") == commit
        assert ref(repo, "refs/tags/release-1^{commit}") == commit
    signers = tmp_path / "allowed_signers"
    signers.write_text(allowed_signers_line("alpha.example.org", key.public_key) + "\n")
    stranger = tmp_path / "stranger_signers"
    stranger.write_text(allowed_signers_line("alpha.example.org", SiteKey.generate().public_key) + "\n")
    assert verifies(served / "site.git", "release-1", signers)
    assert not verifies(served / "site.git", "release-1", stranger)
    assert all(r["state"] == "ok" and r["pushed_commit"] == commit and r["tag"] == "release-1"
               and r["pending_commit"] is None for r in mirrors.state())
    assert mirrors.push_due() == {}  # nothing more is due


def test_nothing_is_pushed_before_its_health_window_passed(live, key, clock, tmp_path):
    local = bare(tmp_path / "mirror.git")
    mirrors = mirrors_of(live, str(local), key, tmp_path, clock)
    first = live.head()
    assert mirrors.push_due() == {}
    mirrors.verified(first, "release-1", "release 1")
    candidate = next_commit(live, "a release being checked")  # main moved; its release is in its health window
    mirrors.push_due()
    assert ref(local, "refs/heads/main") == first  # the mirror has the verified release, not the live head

    mirrors.verified(candidate, "release-2", "release 2")
    mirrors.push_due()
    assert ref(local, "refs/heads/main") == candidate


def test_a_refusing_mirror_is_retried_with_capped_backoff_kept_on_disk_and_blocks_nothing(live, key, clock, tmp_path):
    good, bad = bare(tmp_path / "good.git"), refusing(tmp_path / "bad.git")
    mirrors = mirrors_of(live, f"{good},{bad}", key, tmp_path, clock)
    first = live.head()
    mirrors.verified(first, "release-1", "release 1")
    outcome = mirrors.push_due()
    assert outcome[str(good)] is None and "pushes are closed today" in outcome[str(bad)]
    shown = by_url(mirrors)[str(bad)]
    assert shown["state"] == "retrying" and shown["pushed_commit"] is None and shown["pending_commit"] == first
    assert shown["last_attempt_us"] == T0 and shown["next_attempt_us"] == T0 + int(RETRY_FIRST_S * S)
    assert "pushes are closed today" in shown["error"]

    clock.us += 10 * S  # the next deployment: the good mirror takes it at once, the refusing one waits its turn
    second = next_commit(live, "release two")
    mirrors.verified(second, "release-2", "release 2")
    assert mirrors.push_due() == {str(good): None}
    assert ref(good, "refs/heads/main") == second

    clock.us = T0 + int(RETRY_FIRST_S * S)
    assert list(mirrors.push_due()) == [str(bad)]
    again = Mirrors(live.path, f"{good},{bad}", key, tmp_path / "mirrors.json", now=clock)  # as after a restart
    shown = by_url(again)[str(bad)]
    assert shown["failures"] == 2 and shown["next_attempt_us"] == clock.us + int(2 * RETRY_FIRST_S * S)
    assert by_url(again)[str(good)]["state"] == "ok"
    assert retry_wait_s(30) == RETRY_MAX_S and retry_wait_s(3) == 4 * RETRY_FIRST_S
    assert ref(bad, "refs/heads/main") is None


def test_a_mirror_down_then_up_catches_up_with_every_release_it_missed(live, key, clock, tmp_path):
    port, served = free_port(), tmp_path / "served"
    bare(served / "site.git")
    url = f"git://127.0.0.1:{port}/site.git"
    mirrors = mirrors_of(live, url, key, tmp_path, clock)
    first = live.head()
    mirrors.verified(first, "release-1", "release 1")
    assert mirrors.push_due()[url]  # nobody listens there
    clock.us += 5 * S
    second = next_commit(live, "release two")
    mirrors.verified(second, "release-2", "release 2")
    assert by_url(mirrors)[url]["state"] == "retrying"

    with serve_git(served, port, push=True):
        clock.us = by_url(mirrors)[url]["next_attempt_us"]
        assert mirrors.push_due() == {url: None}
    assert ref(served / "site.git", "refs/heads/main") == second
    assert ref(served / "site.git", "refs/tags/release-1^{commit}") == first
    assert ref(served / "site.git", "refs/tags/release-2^{commit}") == second
    shown = by_url(mirrors)[url]
    assert shown["state"] == "ok" and shown["tag"] == "release-2" and shown["error"] is None


class AskingForPassword(BaseHTTPRequestHandler):
    """A git HTTP server that asks for a password, notes what it was given, and refuses."""

    seen: list[str] = []

    def do_GET(self):
        auth = self.headers.get("Authorization")
        if auth is None:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="mirror"')
        else:
            self.seen.append(base64.b64decode(auth.removeprefix("Basic ")).decode())
            self.send_response(403)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_mirrors_credentials_reach_its_server_and_nothing_else(live, key, clock, tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), AskingForPassword)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://pusher:s3cret-token@127.0.0.1:{server.server_port}/site.git"
        mirrors = mirrors_of(live, url, key, tmp_path, clock)
        mirrors.verified(live.head(), "release-1", "release 1")
        outcome = mirrors.push_due()
    finally:
        server.shutdown()
    shown_url = f"http://127.0.0.1:{server.server_port}/site.git"
    assert list(outcome) == [shown_url] and outcome[shown_url]
    assert AskingForPassword.seen and set(AskingForPassword.seen) == {"pusher:s3cret-token"}
    assert "s3cret" not in repr(mirrors.state()) and "pusher" not in repr(mirrors.state())
    assert b"s3cret" not in (tmp_path / "mirrors.json").read_bytes()
    for path in live.path.rglob("*"):  # not in the live repository's config, refs or objects
        assert not path.is_file() or b"s3cret" not in path.read_bytes()


def test_bad_mirror_urls_are_refused_saying_why_without_repeating_a_password(live, key, tmp_path):
    for url, said in [("ftp://h/x", "is not one git can push to"), ("relative/path", "is not one git can push to"),
                      ("git://user:pw@h/x", "takes no credentials")]:
        with pytest.raises(ValueError, match=said) as refused:
            Mirrors(live.path, url, key, tmp_path / "m.json")
        assert "pw" not in str(refused.value)
    with pytest.raises(ValueError, match="cannot be a git tag"):
        Mirrors(live.path, str(bare(tmp_path / "m.git")), key, tmp_path / "m.json").verified(live.head(), "a..b", "m")
