"""The live release as every reader sees it: found by one readlink, switched atomically, files read without ever
following a link or leaving the tree."""

from __future__ import annotations

import os
import subprocess

import pytest

from civitas_kernel.live_release import MAX_FILE_BYTES, LiveRelease
from civitas_kernel.testing.releases import commit_files, git, no_release, release, switch


@pytest.fixture
def repo(tmp_path):
    path = tmp_path / "live.git"
    subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch=main", str(path)], check=True)
    blob = git(path, "hash-object", "-w", "--stdin", input=b"a site\n")
    tree = git(path, "mktree", input=f"100644 blob {blob}\tREADME\n".encode())
    first = git(path, "commit-tree", tree, "-m", "first")
    git(path, "update-ref", "refs/heads/main", first)
    return path


def test_no_release_until_the_symlink_exists(tmp_path, repo):
    assert LiveRelease.at(tmp_path) is None
    (tmp_path / "releases").mkdir()
    assert LiveRelease.at(tmp_path) is None
    commit = release(tmp_path / "releases", repo, decision="decision 3", made_us=42)
    live = LiveRelease.at(tmp_path)
    assert (live.commit, live.decision, live.made_us) == (commit, "decision 3", 42)
    no_release(tmp_path / "releases")
    assert LiveRelease.at(tmp_path) is None


def test_a_switched_symlink_is_seen_at_the_next_call_and_the_same_release_is_the_same_object(tmp_path, repo):
    releases = tmp_path / "releases"
    releases.mkdir()
    one = commit_files(repo, {"a.txt": "one"})
    release(releases, repo)
    first = LiveRelease.at(tmp_path)
    assert first.read("a.txt") == b"one" and LiveRelease.at(tmp_path) is first  # cached by the target
    commit_files(repo, {"a.txt": "two"})
    two = release(releases, repo)
    assert LiveRelease.at(tmp_path).commit == two and LiveRelease.at(tmp_path).read("a.txt") == b"two"
    switch(releases, one)  # a rollback is a switch back
    assert LiveRelease.at(tmp_path) is first


def test_read_never_leaves_the_tree_nor_follows_a_link(tmp_path, repo):
    releases = tmp_path / "releases"
    releases.mkdir()
    commit_files(repo, {"site/front.md": "hello", "site/static/site.css": "body{}", "polls/a.toml": "x"})
    release(releases, repo)
    live = LiveRelease.at(tmp_path)
    (tmp_path / "secret").write_text("the key")
    os.symlink(tmp_path / "secret", live.root / "site" / "link.md")
    os.symlink(tmp_path, live.root / "up")
    assert live.read("site/front.md") == b"hello"
    for refused in ("../secret", "/etc/passwd", "site/../site/front.md", "site/link.md", "up/secret", ".git/HEAD",
                    "site//front.md", "", "site", "nothing/here"):
        assert live.read(refused) is None, refused
    assert live.names("site") == ["front.md"]  # the link is no file
    assert live.names("polls") == ["a.toml"] and live.names("up") == [] and live.names("../x") == []


def test_a_target_that_is_not_a_commit_is_no_release(tmp_path):
    releases = tmp_path / "releases"
    (releases / "elsewhere" / "tree").mkdir(parents=True)
    os.symlink("elsewhere", releases / "live")
    assert LiveRelease.at(tmp_path) is None


def test_a_file_past_the_limit_is_not_read(tmp_path, repo):
    releases = tmp_path / "releases"
    releases.mkdir()
    commit_files(repo, {"big.css": "x"})
    release(releases, repo)
    live = LiveRelease.at(tmp_path)
    (live.root / "huge.css").write_bytes(b"x" * (MAX_FILE_BYTES + 1))
    assert live.read("huge.css") is None and live.read("big.css") == b"x"
