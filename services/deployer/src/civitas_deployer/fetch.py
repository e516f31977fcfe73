"""A change proposed as a branch of a local repository or a ref at a git URL, turned into the diff voters vote on.

The ref is fetched by git into a scratch repository beside the live one (the live objects as its alternate,
so only what is new travels), which is removed afterwards: nothing fetched enters the live repository. The
fetched commit must descend from the live HEAD; what is proposed is then the diff between the two, applied
by the same path as a patch (so binary files, submodules and escaping links are refused alike), and it must
make exactly the fetched commit's tree. History in between is not kept: what voters decide is base and tree.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from civitas_deployer.git import Git, GitError
from civitas_deployer.live_repo import LiveRepository
from civitas_deployer.patch_checks import PatchRefused

URL_SCHEMES = {"git": "git", "http": "http:https", "https": "https"}  # scheme -> what git may speak for it
REF = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/-]{0,199}")
FETCH_TIMEOUT_S = 120.0
FETCHED = "refs/civitas/fetched"


class SourceRefused(PatchRefused):
    """The repository or ref cannot be fetched, or its change cannot be proposed; the message says why."""


@dataclass(frozen=True)
class Source:
    """Where a change comes from: a git URL, or a local repository's path (only from the site's own machine)."""

    where: str
    ref: str

    @property
    def label(self) -> str:
        return f"{self.ref} of {self.where}"


def _checked_ref(ref: str) -> str:
    bad = (not REF.fullmatch(ref or "") or any(s in ref for s in ("..", "//", "@{"))
           or ref.endswith((".", "/", ".lock")) or any(part.startswith(".") for part in ref.split("/")))
    if bad:
        raise SourceRefused(f"{ref!r} is not a branch or ref name git accepts; name it like feature/about-page "
                            "or refs/heads/main")
    return ref


def _protocols(source: Source, local: bool) -> tuple[str, str]:
    """(what git is given to fetch from, the protocols it may use) — or why this source is refused."""
    scheme = source.where.split("://", 1)[0].lower() if "://" in source.where else ""
    if scheme in URL_SCHEMES:
        if any(ord(c) <= 32 for c in source.where):
            raise SourceRefused("the URL holds a space or a control character; give it as git would")
        return source.where, URL_SCHEMES[scheme]
    if scheme or source.where.startswith("-") or "::" in source.where:
        raise SourceRefused(f"fetch changes from a git://, http:// or https:// URL, not {source.where!r}")
    if not local:
        raise SourceRefused("a local repository can be named only on the site's own machine (`civitas voter`); "
                            "give a git://, http:// or https:// URL, or send a patch")
    path = Path(source.where).expanduser().resolve()
    if not path.is_dir():
        raise SourceRefused(f"there is no repository at {path}; give the folder of your clone")
    return str(path), "file"


@dataclass(frozen=True)
class Fetched:
    """A fetched change, its objects gone again: the diff from `base` to the fetched commit, and that commit's tree."""

    label: str
    base: str
    diff: bytes
    tree: str


def fetch_change(repo: LiveRepository, source: Source, *, local: bool, timeout_s: float = FETCH_TIMEOUT_S) -> Fetched:
    """Fetch `source` and make its change against the live HEAD; nothing of it stays in the repository.

    It takes no lock on the site's state, so a service fetches before it decides the proposal."""
    ref = _checked_ref(source.ref)
    where, protocols = _protocols(source, local)
    live = repo.head()
    scratch = Path(tempfile.mkdtemp(prefix="civitas-fetch-", dir=repo.path))
    try:
        git = Git(scratch)
        git.run("init", "--quiet", "--bare", str(scratch), cwd=scratch)
        (scratch / "objects" / "info" / "alternates").write_text(str((repo.path / "objects").resolve()) + "\n")
        env = {"GIT_ALLOW_PROTOCOL": protocols, "GIT_PROTOCOL_FROM_USER": "0"}
        try:
            done = git.run("-c", "http.followRedirects=false", "fetch", "--quiet", "--no-tags",
                           "--no-recurse-submodules", "--", where, f"+{ref}:{FETCHED}", env=env, check=False,
                           timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise SourceRefused(f"fetching {source.label} took longer than {timeout_s:g} s; try again, or send "
                                "a patch") from None
        if done.returncode != 0:
            why = "; ".join(line for line in done.stderr.decode(errors="replace").splitlines() if line.strip())[:300]
            raise SourceRefused(f"cannot fetch {source.label}: {why or 'git gave no reason'}; check the address "
                                "and the branch's name")
        fetched = git.out("rev-parse", "--verify", f"{FETCHED}^{{commit}}")
        descends = git.run("merge-base", "--is-ancestor", live, fetched, check=False)
        if descends.returncode == 1:
            raise SourceRefused(f"{source.label} does not build on the live HEAD {live[:12]}: rebase it on "
                                f"{live[:12]} (fetch the live repository first) and propose it again")
        if descends.returncode != 0:
            raise GitError(("merge-base", "--is-ancestor"), descends.returncode, descends.stderr.decode())
        tree = git.out("rev-parse", f"{fetched}^{{tree}}")
        diff = git.read_at_most(repo.max_patch_bytes, "diff", "--full-index", "--no-renames", "--no-color",
                                "--no-ext-diff", "--no-textconv", live, fetched)
        return Fetched(source.label, live, diff, tree)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
