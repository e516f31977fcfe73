"""Releases made by hand for tests, laid out as the deployer lays them out: a commit of a real git repository
exported with `git archive` into releases/<commit>/tree, and the `live` symlink switched to it atomically."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tempfile
import tarfile
from pathlib import Path

GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_AUTHOR_NAME": "test",
           "GIT_AUTHOR_EMAIL": "test@localhost", "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@localhost",
           "PATH": os.environ.get("PATH", "/usr/bin:/bin")}


def git(repo: Path, *args: str, input: bytes | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=repo, input=input, capture_output=True, env=GIT_ENV, check=True)
    return done.stdout.decode().strip()


def commit_files(repo: Path, files: dict[str, bytes | str | None], message: str = "change") -> str:
    """Commit `files` (path -> content; None removes it) onto main of the bare repository `repo`; the new commit."""
    parent = git(repo, "rev-parse", "--verify", "--quiet", "refs/heads/main")
    index = Path(repo) / "test-index"
    scratch = Path(tempfile.mkdtemp(prefix="civitas-test-tree-"))  # update-index asks for a work tree; it stays empty
    env_index = {"GIT_INDEX_FILE": str(index), "GIT_WORK_TREE": str(scratch)}
    try:
        run = lambda *a, input=None: subprocess.run(  # noqa: E731
            ["git", *a], cwd=repo, input=input, capture_output=True, env=GIT_ENV | env_index, check=True
        ).stdout.decode().strip()
        run("read-tree", parent)
        for path, content in files.items():
            if content is None:
                run("update-index", "--force-remove", "--", path)
                continue
            data = content.encode() if isinstance(content, str) else content
            blob = run("hash-object", "-w", "--stdin", input=data)
            run("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}")
        tree = run("write-tree")
        commit = run("commit-tree", tree, "-p", parent, "-m", message)
        run("update-ref", "refs/heads/main", commit, parent)
        return commit
    finally:
        index.unlink(missing_ok=True)
        shutil.rmtree(scratch, ignore_errors=True)


def release(releases: Path, repo: Path, commit: str | None = None, *, decision: str | None = None,
            made_us: int = 0) -> str:
    """Export `commit` (default: main) of `repo` as a release under `releases` and make it live; the commit."""
    commit = commit or git(repo, "rev-parse", "refs/heads/main")
    base = Path(releases) / commit
    if not base.exists():
        archive = subprocess.run(["git", "archive", "--format=tar", commit], cwd=repo, capture_output=True,
                                 env=GIT_ENV, check=True).stdout
        staging = Path(releases) / f".{commit}.tmp"
        (staging / "tree").mkdir(parents=True)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(staging / "tree", filter="data")
        (staging / "release.json").write_text(json.dumps({"commit": commit, "decision": decision,
                                                          "made_us": made_us}))
        os.replace(staging, base)
    switch(releases, commit)
    return commit


def switch(releases: Path, commit: str) -> None:
    """Point releases/live and releases/verified at `commit` atomically, as a deployment that passed health does."""
    for name in ("live", "verified"):
        temporary = Path(releases) / f".{name}.tmp"
        temporary.unlink(missing_ok=True)
        os.symlink(commit, temporary)
        os.replace(temporary, Path(releases) / name)


def no_release(releases: Path) -> None:
    for name in ("live", "verified"):
        (Path(releases) / name).unlink(missing_ok=True)
