"""The site's files for a pod of the site release: exactly the approved commit's tree, fetched by its hash from the
deployer's read-only git service and laid out as the deployer lays out a release, before the service starts.

    python -m civitas_deployer.gitops.site_files --source git://RELEASE-deployer:9418/live.git \
        --commit HEX [--decision NAME] --into /var/lib/civitas-releases

It is the chart's initContainer `site-files` (the deployer's image: the one with git). The commit comes from the
values the deployer committed to the GitOps repository (`release.commit`), so a pod runs the files of the release
its own values name, never a newer one (a failed upgrade rolled back by Flux gets the files before it back with
them). Verified by construction: git names every object by the hash of its content and checks each one it receives
(transfer.fsckObjects), and a commit's hash covers its whole tree, so what is fetched as COMMIT is that commit's
files and nothing else; the commit is then checked to be what arrived. Anything wrong stops the pod before the
service starts (one line on stderr saying what to do; nothing written), which Flux sees as a failed upgrade.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from civitas_deployer.deploying.releases import VERIFIED, Releases
from civitas_deployer.git import Git, GitError

COMMIT = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
SOURCE = re.compile(r"^(git|https?)://[A-Za-z0-9.-]+(:[0-9]{1,5})?/[A-Za-z0-9._/-]+$")
FETCH_TIMEOUT_S = 300.0


class SiteFilesUnavailable(Exception):
    """The release's files could not be had: why, and what to do."""


def lay_out(source: str, commit: str, decision: str | None, into: Path, *, timeout_s: float = FETCH_TIMEOUT_S) -> Path:
    """`commit`'s tree at INTO/<commit>/tree, with release.json, and `live` and `verified` naming it; its tree."""
    if not COMMIT.match(commit):
        raise SiteFilesUnavailable(f"--commit {commit!r} is not a commit's full hash (40 or 64 lowercase hex): the "
                                   "site release's values must carry release.commit as the deployer writes it")
    if not SOURCE.match(source):
        raise SiteFilesUnavailable(f"--source {source!r} is not a git:// or http(s):// URL of the deployer's "
                                   "git service (e.g. git://civitas-deployer:9418/live.git)")
    into.mkdir(parents=True, exist_ok=True)
    laid = Releases(into, Git(into))
    if laid.exists(commit) and laid.live() == commit == laid.verified():  # an initContainer run again: done already
        return laid.tree(commit)
    with tempfile.TemporaryDirectory(prefix="civitas-site-files-") as scratch:
        git = Git(Path(scratch) / "fetched.git")
        fmt = "sha1" if len(commit) == 40 else "sha256"
        git.run("init", "--quiet", "--bare", f"--object-format={fmt}", str(git.git_dir), cwd=Path(scratch))
        try:
            git.run("-c", "transfer.fsckObjects=true", "-c", "protocol.version=2", "fetch", "--quiet", "--no-tags",
                    "--depth=1", "--", source, f"{commit}:refs/release", timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise SiteFilesUnavailable(f"the deployer's git service at {source} gave no answer within "
                                       f"{timeout_s:g} s; is the deployer's pod ready?") from None
        except GitError as error:
            said = " / ".join(line for line in error.stderr.strip().splitlines() if line.strip())[-400:]
            raise SiteFilesUnavailable(f"the deployer's git service at {source} did not give commit {commit}: "
                                       f"{said or error.returncode}; the commit must be on the live repository's "
                                       "main (the deployer puts it there before it commits the values)") from None
        got = git.out("rev-parse", "--verify", "--quiet", "refs/release^{commit}", check=False)
        if got != commit:
            raise SiteFilesUnavailable(f"fetched {got or 'nothing'} where commit {commit} was asked for")
        releases = Releases(into, git)
        releases.clear_leftovers()
        made_us = int(git.out("log", "-1", "--format=%ct", commit)) * 1_000_000
        tree = releases.export(commit, decision or None, made_us)
        releases.point(commit)
        releases.point(commit, VERIFIED)  # the pod's only release: the one Flux and the deployer approved
    return tree


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m civitas_deployer.gitops.site_files", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--source", required=True, help="the deployer's git service, e.g. git://HOST:9418/live.git")
    parser.add_argument("--commit", required=True, help="the release's commit (the values' release.commit)")
    parser.add_argument("--decision", default="", help="the decision record that approved it")
    parser.add_argument("--into", required=True, type=Path, help="the releases folder (CIVITAS_RELEASES)")
    args = parser.parse_args(argv)
    try:
        tree = lay_out(args.source, args.commit, args.decision, args.into)
    except SiteFilesUnavailable as error:
        print(f"site files: {error}", file=sys.stderr)
        return 2
    print(f"site files: release {args.commit[:12]} at {tree}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
