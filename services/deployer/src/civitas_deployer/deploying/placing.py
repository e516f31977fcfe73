"""Where an approved revision lands on main: on its own base, or rebased onto a HEAD that moved, or nowhere.

Compare-and-swap on the live HEAD: when main is still the revision's base, the revision's own tree is deployed.
When main moved, the revision is rebased only if no path it changes was changed since its base (compared by
tree, so a change rolled back since counts as no change), the rules are those it was decided by, and its diff
applies cleanly; the rebased diff must then hash the same as the approved one. Anything else needs a new vote.

The diff hash, which voters can recompute with their own git:
    git diff-tree -p --binary --full-index --no-renames BASE^{tree} RESULT^{tree} | sha256sum
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from civitas_deployer.domain.proposals import Revision
from civitas_deployer.git import Git
from civitas_deployer.live_repo import RULE_FILES, LiveRepository

DIFF = ("diff-tree", "-p", "--binary", "--full-index", "--no-renames", "--no-color", "--no-ext-diff", "--no-textconv")


class NeedsNewVote(Exception):
    """The approved revision cannot be deployed as approved; the message says why."""


@dataclass(frozen=True)
class Placement:
    tree: str  # the tree main will hold
    diff_hash: str  # of the approved diff, which the deployed one equals
    rebased: bool  # main had moved since the revision's base


def diff_of(git: Git, old: str, new: str) -> bytes:
    return git.run(*DIFF, f"{old}^{{tree}}", f"{new}^{{tree}}").stdout


def diff_hash(git: Git, old: str, new: str) -> str:
    """The hex SHA-256 of the binary diff from `old` to `new` (commits or trees), exactly as git writes it."""
    return hashlib.sha256(diff_of(git, old, new)).hexdigest()


def changed_paths(git: Git, old: str, new: str) -> set[str]:
    out = git.run("diff-tree", "-r", "-z", "--name-only", "--no-renames", f"{old}^{{tree}}", f"{new}^{{tree}}").stdout
    return {p.decode() for p in out.split(b"\0") if p}


def place(repo: LiveRepository, revision: Revision, head: str) -> Placement:
    """Where `revision` lands on main, whose HEAD is `head`; NeedsNewVote when it cannot land as approved."""
    git, base = repo.git, revision.base_commit
    if not repo.has_commit(revision.result_commit) or not repo.has_commit(base):
        raise NeedsNewVote(f"the live repository lacks the revision's commits ({revision.result_commit[:12]} on "
                           f"{base[:12]}); restore it from its mirror, or propose the change again")
    approved = diff_hash(git, base, revision.result_commit)
    if head == base:
        return Placement(revision.tree_hash, approved, rebased=False)
    if git.run("merge-base", "--is-ancestor", base, head, check=False).returncode != 0:
        raise NeedsNewVote(f"its base {base[:12]} is not in the live history any more (main is {head[:12]}); "
                           "it needs a new vote on a revision made against the live HEAD")
    moved = changed_paths(git, base, head)
    rules = sorted(moved & set(RULE_FILES))
    if rules:
        raise NeedsNewVote(f"{', '.join(rules)} changed since its base {base[:12]}, so it was decided by rules no "
                           "longer in force; it needs a new vote (revise it onto the live HEAD)")
    clash = sorted(moved & set(revision.changed_paths))
    if clash:
        shown = ", ".join(clash[:5]) + (f" and {len(clash) - 5} more" if len(clash) > 5 else "")
        raise NeedsNewVote(f"{shown} changed on main since its base {base[:12]}; it needs a new vote on a "
                           "revision made against the live HEAD")
    tree = _applied(git, repo.path, head, diff_of(git, base, revision.result_commit))
    if diff_hash(git, head, tree) != approved:
        raise NeedsNewVote("rebased onto the live HEAD its diff is not the one approved; it needs a new vote")
    return Placement(tree, approved, rebased=True)


def _applied(git: Git, where: Path, head: str, diff: bytes) -> str:
    """The tree `diff` makes on `head`'s, in a scratch index; NeedsNewVote when it does not apply cleanly."""
    scratch = Path(tempfile.mkdtemp(prefix="civitas-rebase-", dir=where))
    try:
        env = {"GIT_INDEX_FILE": str(scratch / "index")}
        git.run("read-tree", head, env=env)
        patch = scratch / "approved.diff"
        patch.write_bytes(diff)
        done = git.run("apply", "--cached", "--whitespace=nowarn", str(patch), env=env, cwd=scratch, check=False)
        if done.returncode != 0:
            raise NeedsNewVote("it no longer applies cleanly to the live HEAD; it needs a new vote on a revision "
                               "made against the live HEAD")
        return git.out("write-tree", env=env)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
