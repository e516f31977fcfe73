"""Releases on disk: CIVITAS_HOME/releases/<commit>/tree (the live repository's files at that commit, written once)
with release.json beside it, and `live`, a relative symlink to the release that serves, switched atomically.

A release is exported into a temporary directory and renamed into place whole, so a release directory that exists
is complete; what a crash leaves half-written is a temporary directory, removed at the next start.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
from pathlib import Path

from civitas_deployer.git import Git

LIVE = "live"
RELEASE_JSON = "release.json"
_TEMPORARY = ".making-"


class Releases:
    def __init__(self, home: Path, git: Git) -> None:
        self.root = Path(home) / "releases"
        self.git = git

    def tree(self, commit: str) -> Path:
        return self.root / commit / "tree"

    def exists(self, commit: str) -> bool:
        return (self.root / commit / RELEASE_JSON).exists()

    def export(self, commit: str, decision: str | None, made_us: int) -> Path:
        """The release of `commit` (made now unless it is already): `git archive` of its tree, then release.json."""
        if self.exists(commit):
            return self.tree(commit)
        self.root.mkdir(parents=True, exist_ok=True)
        making = self.root / f"{_TEMPORARY}{commit}"
        shutil.rmtree(making, ignore_errors=True)
        (making / "tree").mkdir(parents=True)
        archive = self.git.run("archive", "--format=tar", commit).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(making / "tree", filter="data")  # nothing may land outside the tree
        info = {"commit": commit, "decision": decision, "made_us": made_us}
        (making / RELEASE_JSON).write_text(json.dumps(info, sort_keys=True) + "\n")
        os.replace(making, self.root / commit)
        return self.tree(commit)

    def info(self, commit: str) -> dict | None:
        try:
            return json.loads((self.root / commit / RELEASE_JSON).read_text())
        except (OSError, ValueError):
            return None

    def live(self) -> str | None:
        """The commit of the release that serves, or None before the first."""
        try:
            return os.readlink(self.root / LIVE)
        except OSError:
            return None

    def point(self, commit: str | None) -> None:
        """Make `commit`'s release the one that serves (None: none), in one rename."""
        link = self.root / LIVE
        if commit is None:
            link.unlink(missing_ok=True)
            return
        if self.live() == commit:
            return
        temporary = self.root / f"{_TEMPORARY}{LIVE}"
        temporary.unlink(missing_ok=True)
        os.symlink(commit, temporary)
        os.replace(temporary, link)

    def clear_leftovers(self) -> None:
        """Remove what an export or a switch stopped half way left behind."""
        if self.root.exists():
            for path in self.root.glob(f"{_TEMPORARY}*"):
                if path.is_symlink() or path.is_file():
                    path.unlink()
                else:
                    shutil.rmtree(path, ignore_errors=True)
