"""How the civitas source enters the live repository: at the first self-governed start, committed from the tree
civitas is installed from, so that from then on the code the site runs changes only by an approved proposal.

The commit sits on top of the live HEAD (the site's rules stay as they are) and says where the files came from.
A repository that already carries the source (a pyproject.toml at its root) is left alone.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import tomllib
from pathlib import Path

from civitas_deployer.git import Git
from civitas_deployer.live_repo import BRANCH, LiveRepository

SKIPPED_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", "node_modules", ".mypy_cache"}


class NoSource(RuntimeError):
    """civitas is not installed from a source tree, so there is nothing to commit as the site's code."""


def installed_source() -> Path:
    """The root of the source tree civitas is installed (editable) from."""
    import civitas_deployer

    root = Path(civitas_deployer.__file__).resolve().parents[4]  # services/deployer/src/civitas_deployer/
    try:
        name = tomllib.loads((root / "pyproject.toml").read_text())["project"]["name"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        name = None
    if name != "civitas":
        raise NoSource(f"civitas is not installed from its source tree (looked in {root}); host mode commits that "
                       "tree to the live repository: install civitas from a clone with `make install`")
    return root


def source_files(root: Path) -> list[str]:
    """The files of the tree: git's own list where it is a clone (tracked and new, not ignored), else a walk."""
    if (root / ".git").exists():
        listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others",
                                 "--exclude-standard"], capture_output=True, check=True).stdout
        return sorted(p for p in listed.decode().split("\0") if p and os.path.lexists(root / p))
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info"))
        found += [str((Path(folder) / f).relative_to(root)) for f in files if not f.endswith(".pyc")]
    return sorted(found)


def carries_source(repo: LiveRepository) -> bool:
    return repo.read(repo.head(), "pyproject.toml") is not None


def commit_source(repo: LiveRepository, root: Path, at_us: int) -> str | None:
    """Commit the source at `root` on top of the live HEAD unless it is there already; the new commit, or None."""
    if carries_source(repo):
        return None
    head = repo.head()
    files = [f for f in source_files(root) if repo.read(head, f) is None]  # the site's own files win
    with tempfile.TemporaryDirectory(prefix="civitas-source-") as scratch:
        env = {"GIT_INDEX_FILE": str(Path(scratch) / "index"), "GIT_WORK_TREE": str(root)}
        git: Git = repo.git
        git.run("read-tree", head, env=env)
        git.run("add", "--force", "--pathspec-from-file=-", "--pathspec-file-nul", input="\0".join(files).encode(),
                env=env, cwd=root)
        tree = git.out("write-tree", env=env)
    date = f"@{at_us // 1_000_000} +0000"
    message = (f"The civitas source this site runs, committed from {root} at its first self-governed start\n\n"
               "From now on the site's code changes only by a proposal the voters approve.\n")
    commit = git.out("commit-tree", tree, "-p", head, "-F", "-", input=message.encode(),
                     env={"GIT_AUTHOR_NAME": "civitas", "GIT_AUTHOR_EMAIL": "civitas@localhost",
                          "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date})
    git.run("update-ref", BRANCH, commit, head)  # only from the HEAD read above
    return commit
