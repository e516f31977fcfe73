"""The commits a deployment writes on main, and moving main only from the commit it was expected to be on.

Both commits are made from what the deployment's events hold (trees, parents, message, date), so after a crash
the same commit is made again, byte for byte, and main can be checked against it.
"""

from __future__ import annotations

from civitas_deployer.domain.deployments import Deployment
from civitas_deployer.git import Git
from civitas_deployer.live_repo import BRANCH

AUTHOR = {"GIT_AUTHOR_NAME": "civitas", "GIT_AUTHOR_EMAIL": "civitas@localhost"}


class MainMoved(RuntimeError):
    """main is on neither the commit expected nor the one it was to move to: something else wrote it."""


def _dated(us: int) -> dict[str, str]:
    date = f"@{us // 1_000_000} +0000"
    return AUTHOR | {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}


def deployment_message(d: Deployment, title: str, onto: str) -> str:
    """What the deployed commit says: the decision that approved it, the revision and the hashes voters check."""
    lines = [f"Deploy proposal {d.proposal}, revision {d.revision}: {title}", "",
             f"Approved-by: {d.decision}", f"Proposal: {d.proposal}", f"Revision: {d.revision}",
             f"Content-hash: {d.content_hash}", f"Diff-hash: {d.diff_hash}", f"Deployment: {d.id}"]
    if d.rebased_from:
        lines.append(f"Rebased-onto: {onto}")
    return "\n".join(lines) + "\n"


def deployment_commit(git: Git, tree: str, main: str, revision_commit: str, message: str, at_us: int) -> str:
    """A merge of the revision's commit into main, holding `tree` (the revision's, or its rebase)."""
    return git.out("commit-tree", tree, "-p", main, "-p", revision_commit, "-F", "-", input=message.encode(),
                   env=_dated(at_us))


def revert_commit(git: Git, d: Deployment) -> str:
    """The commit that takes main back to the tree it held before `d`, saying why; the same one every time."""
    incident = d.incident
    good_tree = git.out("rev-parse", f"{d.previous}^{{tree}}")
    message = (f"Revert proposal {d.proposal}, revision {d.revision} ({d.decision}): failed at {incident.phase}\n\n"
               f"{incident.reason}\n\nReverts: {d.commit}\nDeployment: {d.id}\n"
               "A retry is a new decision: propose the change again, against this commit, and vote on it.\n")
    return git.out("commit-tree", good_tree, "-p", d.commit, "-F", "-", input=message.encode(),
                   env=_dated(incident.at_us))


def main_of(git: Git) -> str:
    return git.out("rev-parse", "--verify", "--quiet", BRANCH + "^{commit}")


def move_main(git: Git, new: str, expected: str) -> None:
    """main from `expected` to `new` (compare-and-swap); nothing to do when it is on `new` already."""
    current = main_of(git)
    if current == new:
        return
    if current != expected:
        raise MainMoved(f"main is on {current[:12]}, not {expected[:12]} as the deployment expects")
    git.run("update-ref", "-m", f"civitas deploy {new[:12]}", BRANCH, new, expected)
