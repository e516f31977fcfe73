"""The live repository: one bare git repository per site holding what the voters govern, on branch main.

A proposal's patch is applied by git itself (mailsplit, mailinfo, apply --cached, write-tree, commit-tree)
to its base in a scratch index, with every object it makes held in a quarantine directory until the
proposal is accepted (as git's own receive-pack does): a refused patch leaves nothing behind. Accepted
revisions are kept under refs/proposals/ID/REV so their objects outlive any garbage collection.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from civitas_kernel.commands import CommandError, ConflictError

from civitas_deployer.domain.proposals import content_hash
from civitas_deployer.git import Git, GitError
from civitas_deployer.patch_checks import SYMLINK, PatchRefused, check_patch_paths, check_result, parse_diff_tree

BRANCH = "refs/heads/main"
RULE_FILES = ("governance.toml", "modules.toml")
REQUESTS_DIR = "maintenance/runs/"  # requests to run a maintenance action, checked before voting
MAX_PATCH_BYTES = 10 * 1024 * 1024
BASE_TRAILER = re.compile(rb"^base-commit: ([0-9a-f]{40})\s*$", re.MULTILINE)
INFO_LINE = re.compile(r"^(Author|Email|Subject|Date): (.*)$", re.MULTILINE)

__all__ = ["BaseNotLive", "LiveRepository", "PatchRefused", "PendingRefs", "StagedChange"]


class BaseNotLive(ConflictError):
    """The change is made against a commit that is not the live HEAD any more."""


def _git_date(us: int) -> str:
    return f"@{us // 1_000_000} +0000"


@dataclass
class StagedChange:
    """A patch applied to its base, its objects still in quarantine; admit() moves them into the repository."""

    base_commit: str
    result_commit: str
    tree_hash: str
    changed_paths: tuple[str, ...]
    rule_files: dict[str, bytes | None]  # governance.toml and modules.toml as the change leaves them
    _quarantine: Path = field(repr=False)
    _objects: Path = field(repr=False)
    request_files: dict[str, bytes | None] = field(default_factory=dict)  # maintenance/runs/*, as it leaves them

    @property
    def content_hash(self) -> str:
        return content_hash(self.base_commit, self.tree_hash)

    def admit(self) -> None:
        """Move the change's objects into the live repository (before its event is appended: never the reverse)."""
        files = sorted(p for p in self._quarantine.rglob("*") if p.is_file())
        for source in sorted(files, key=lambda p: p.suffix == ".idx"):  # a pack's index last, as git does
            target = self._objects / source.relative_to(self._quarantine)
            if not target.exists():
                target.parent.mkdir(exist_ok=True)
                os.replace(source, target)


class LiveRepository:
    def __init__(self, path: Path, max_patch_bytes: int = MAX_PATCH_BYTES) -> None:
        self.path = Path(path)
        self.git = Git(self.path)
        self.max_patch_bytes = max_patch_bytes

    # -- the repository ------------------------------------------------------------------

    @classmethod
    def open_or_create(cls, path: Path, made_at_us: int, **options) -> LiveRepository:
        """The live repository at `path`, created on first use from the defaults that ship with civitas."""
        path = Path(path)
        if not (path / "HEAD").exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            Git(path).run("init", "--quiet", "--bare", "--initial-branch=main", str(path), cwd=path.parent)
            repo = cls(path, **options)
            repo._commit_defaults(made_at_us)
            return repo
        repo = cls(path, **options)
        repo.head()
        return repo

    def _commit_defaults(self, made_at_us: int) -> None:
        """The first commit: every file under default/ as civitas ships it (the rules, the pages' text and
        stylesheet, the polls' folder, the registrars and the site's rules)."""
        tree = self._tree_of(resources.files("civitas_deployer") / "default")
        env = {"GIT_AUTHOR_NAME": "civitas", "GIT_AUTHOR_EMAIL": "civitas@localhost",
               "GIT_AUTHOR_DATE": _git_date(made_at_us), "GIT_COMMITTER_DATE": _git_date(made_at_us)}
        commit = self.git.out("commit-tree", tree, "-m", "The site's first rules, as civitas ships them", env=env)
        self.git.run("update-ref", BRANCH, commit, "")

    def _tree_of(self, folder) -> str:
        """The git tree of a shipped folder, its subfolders as trees (Python's caches left out)."""
        entries = []
        for item in sorted(folder.iterdir(), key=lambda i: i.name):
            if item.name.startswith((".", "__")) or item.name.endswith(".pyc"):
                continue
            if item.is_dir():
                entries.append(f"040000 tree {self._tree_of(item)}\t{item.name}\n")
            else:
                blob = self.git.out("hash-object", "-w", "--stdin", input=item.read_bytes())
                entries.append(f"100644 blob {blob}\t{item.name}\n")
        return self.git.out("mktree", input="".join(entries).encode())

    def head(self) -> str:
        """The live HEAD: the commit the site runs."""
        return self.git.out("rev-parse", "--verify", "--quiet", BRANCH + "^{commit}")

    def read(self, commit: str, path: str) -> bytes | None:
        """The file at `path` in `commit`, or None where it has none."""
        done = self.git.run("cat-file", "blob", f"{commit}:{path}", check=False)
        return done.stdout if done.returncode == 0 else None

    def has_commit(self, commit: str) -> bool:
        return self.git.run("cat-file", "-e", f"{commit}^{{commit}}", check=False).returncode == 0

    def keep(self, proposal: str, revision: int, commit: str) -> None:
        """Name an accepted revision's commit under refs/proposals/ID/REV; again with the same commit is harmless."""
        ref = f"refs/proposals/{proposal}/{revision}"
        held = self.git.run("rev-parse", "--verify", "--quiet", ref, check=False).stdout.decode().strip()
        if held == commit:
            return
        if held:
            raise GitError(("update-ref", ref), 1, f"{ref} holds {held}, not {commit}")
        self.git.run("update-ref", "-m", f"proposal {proposal} revision {revision}", ref, commit, "")

    def kept(self, proposal: str, revision: int) -> str | None:
        done = self.git.run("rev-parse", "--verify", "--quiet", f"refs/proposals/{proposal}/{revision}", check=False)
        return done.stdout.decode().strip() or None

    # -- applying a patch ----------------------------------------------------------------

    @contextmanager
    def stage(self, patch: bytes, *, title: str, proposer: str, made_at_us: int,
              base: str | None = None) -> Iterator[StagedChange]:
        """Apply `patch` (git format-patch output, or a plain git diff) to `base`, the live HEAD by default."""
        if len(patch) > self.max_patch_bytes:
            limit = self.max_patch_bytes
            raise PatchRefused(f"the patch is {len(patch):,} bytes; the limit is {limit:,} bytes "
                               f"({limit // (1024 * 1024)} MiB): split the change into smaller proposals")
        live = self.head()
        self._check_base(base or live, live, "the change is made against")
        for named in BASE_TRAILER.findall(patch):
            self._check_base(named.decode(), live, "the patch says its base-commit is")
        scratch = Path(tempfile.mkdtemp(prefix="civitas-staging-", dir=self.path))
        try:
            objects = scratch / "objects"
            objects.mkdir()
            env = {"GIT_INDEX_FILE": str(scratch / "index"), "GIT_OBJECT_DIRECTORY": str(objects),
                   "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(self.path / "objects")}
            self.git.run("read-tree", live, env=env)
            commit, tree = live, ""
            for number, (info, message, diff) in enumerate(self._mails(patch, scratch, title, proposer), start=1):
                commit, tree = self._apply_one(number, info, message, diff, commit, scratch, env, made_at_us)
            listing = self.git.run("diff-tree", "-r", "-z", "--no-renames", "--raw", "--numstat", live, commit,
                                   env=env).stdout
            entries, numstat = parse_diff_tree(listing)
            links = [e.new_blob for e in entries if e.new_mode == SYMLINK and e.status != "D"]
            requests = sorted({e.path for e in entries if e.path.startswith(REQUESTS_DIR)})
            blobs = self.git.blobs([*links, *(f"{commit}:{name}" for name in (*RULE_FILES, *requests))], env=env)
            check_result(entries, numstat, blobs)
            rules = {name: blobs[f"{commit}:{name}"] for name in RULE_FILES}
            yield StagedChange(live, commit, tree, tuple(sorted({e.path for e in entries})), rules, objects,
                               self.path / "objects", {name: blobs[f"{commit}:{name}"] for name in requests})
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _check_base(self, base: str, live: str, said: str) -> None:
        if base == live:
            return
        if not self.has_commit(base):
            raise BaseNotLive(f"{said} {base[:12]}, which the live repository does not have; "
                              f"make it against the live HEAD {live[:12]}")
        raise BaseNotLive(f"{said} {base[:12]}, which is no longer live (the live HEAD is {live[:12]}); "
                          f"rebase the change on {live[:12]} and make the patch again")

    def _mails(self, patch: bytes, scratch: Path, title: str, proposer: str) -> Iterator[tuple[dict, str, Path]]:
        """(author info, commit message, diff file) of each commit of the patch, in order."""
        if not patch.startswith(b"From "):  # a plain diff: one commit, titled and authored by its proposer
            diff = scratch / "plain.diff"
            diff.write_bytes(patch)
            yield {"Author": "", "Email": proposer, "Date": ""}, title, diff
            return
        mails = scratch / "mails"
        mails.mkdir()
        source = scratch / "patch.mbox"
        source.write_bytes(patch)
        count = int(self.git.out("mailsplit", "-o" + str(mails), str(source)))
        for n in range(1, count + 1):
            mail, message, diff = mails / f"{n:04d}", scratch / f"msg{n}", scratch / f"diff{n}"
            with open(mail, "rb") as stdin:
                out = self.git.run("mailinfo", "-u", str(message), str(diff), input=stdin.read()).stdout.decode()
            info = dict(INFO_LINE.findall(out))
            body = message.read_text(errors="replace").strip()
            yield info, (info.get("Subject", "") + ("\n\n" + body if body else "")).strip() or title, diff

    def _apply_one(self, number: int, info: dict, message: str, diff: Path, parent: str, scratch: Path,
                   env: dict, made_at_us: int) -> tuple[str, str]:
        """(commit, tree) of one commit of the patch applied on `parent`, in the scratch index."""
        where = f"commit {number} of the patch"
        applied = self.git.run("apply", "--cached", "--apply", "--numstat", "-z", "--whitespace=nowarn", str(diff),
                               env=env, cwd=scratch, check=False)
        if applied.returncode != 0:  # say why in our words where we can: git's are terse
            listed = self.git.run("apply", "--numstat", "-z", str(diff), env=env, check=False)
            if listed.returncode != 0 or not listed.stdout:
                raise PatchRefused(f"{where} holds no diff git can read ({_first_line(listed.stderr)}); "
                                   "send the output of `git format-patch`")
            check_patch_paths(listed.stdout, where)
            raise PatchRefused(f"{where} does not apply to the live HEAD: {_first_line(applied.stderr)}; "
                               "rebase it on the live HEAD and make the patch again")
        check_patch_paths(applied.stdout, where)
        tree = self.git.out("write-tree", env=env)
        author = {"GIT_AUTHOR_NAME": info.get("Author") or info.get("Email", "unknown"),
                  "GIT_AUTHOR_EMAIL": info.get("Email") or "unknown",
                  "GIT_AUTHOR_DATE": info.get("Date") or _git_date(made_at_us),
                  "GIT_COMMITTER_DATE": _git_date(made_at_us)}
        try:
            commit = self.git.out("commit-tree", tree, "-p", parent, "-F", "-", input=message.encode(),
                                  env=env | author)
        except GitError as error:
            raise CommandError(f"{where} cannot be committed: {_first_line(error.stderr.encode())}") from None
        return commit, tree


class PendingRefs:
    """Revisions' commits, named under refs/proposals/ once their event is in the log and never before.

    In a batch (a group commit) the event is written when the batch ends, so its ref is named at the first
    command after that. A batch that fails is folded again from the log by a new command layer, and the
    revisions it decided, never written, are forgotten with the old one.
    """

    def __init__(self, repo: LiveRepository) -> None:
        self.repo = repo
        self._waiting: list[tuple[object, str, int, str]] = []  # (the batch it was decided in, id, number, commit)

    def name(self, batch: object | None, proposal: str, revision: int, commit: str) -> None:
        self._waiting.append((batch, proposal, revision, commit))
        self.settle(batch)

    def settle(self, current: object | None) -> None:
        """Name every waiting revision but those of `current`, the batch still being decided (None: no batch)."""
        still = [entry for entry in self._waiting if current is not None and entry[0] is current]
        for batch, proposal, revision, commit in self._waiting:
            if current is None or batch is not current:
                self.repo.keep(proposal, revision, commit)
        self._waiting = still


def _first_line(stderr: bytes) -> str:
    lines = [line for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    return "; ".join(lines[:2]) if lines else "no reason given"
