"""Real git repositories for tests: a voter's clone of the live repository, and making a patch live."""

from __future__ import annotations

import subprocess
from pathlib import Path

from civitas_deployer.live_repo import BRANCH, LiveRepository

T0 = 1_700_000_000_000_000


class Clone:
    """A voter's working copy: edit files, commit, and make patches as a voter would with git."""

    def __init__(self, live: Path, path: Path) -> None:
        subprocess.run(["git", "clone", "--quiet", str(live), str(path)], check=True, capture_output=True)
        self.path = path

    def git(self, *args: str, input: bytes | None = None) -> bytes:
        env_args = ["-c", "user.name=Bob Voter", "-c", "user.email=bob@example.org", "-c", "commit.gpgsign=false"]
        return subprocess.run(["git", "-C", str(self.path), *env_args, *args], input=input, check=True,
                              capture_output=True).stdout

    def write(self, path: str, content: str | bytes) -> None:
        target = self.path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)

    def commit(self, message: str, *paths: str) -> None:
        self.git("add", "--all", *paths)
        self.git("commit", "--quiet", "-m", message)

    def patch(self, commits: int = 1, *extra: str) -> bytes:
        return self.git("format-patch", f"-{commits}", "--stdout", *extra)

    def sync(self) -> None:
        self.git("fetch", "--quiet", "origin")
        self.git("reset", "--quiet", "--hard", "origin/main")


def advance(live: LiveRepository, patch: bytes) -> str:
    """Make a patch live, as a deploy would: its commit becomes main."""
    before = live.head()
    with live.stage(patch, title="t", proposer="x@example.org", made_at_us=T0) as staged:
        staged.admit()
    live.git.run("update-ref", BRANCH, staged.result_commit, before)
    return staged.result_commit
