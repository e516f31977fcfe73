"""The GitOps repository Flux reconciles: the deployer commits one file to it, the release's values, and pushes.

A local bare repository (CIVITAS_HOME/gitops.git) holds what was fetched; commits are made with plumbing (a scratch
index), so no work tree, hook or user configuration is involved. The remote's credentials reach only the fetch and
the push, through their environment and mirror_remote's credential helper; every error is scrubbed of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

from civitas_deployer.git import Git, GitError
from civitas_deployer.mirror_remote import Remote

_ENV_KEPT = ("HOME", "SSL_CERT_FILE", "SSL_CERT_DIR", "SSH_AUTH_SOCK")
FETCHED = "refs/remotes/gitops/head"
HISTORY_READ = 200  # how far back a revert looks for the values before a release


class GitOpsUnavailable(Exception):
    """The GitOps repository could not be fetched or pushed: why, without credentials."""


class GitOpsRepository:
    def __init__(self, path: Path, remote: Remote, branch: str = "main", values_file: str = "civitas/release.json",
                 timeout_s: float = 120.0) -> None:
        self.remote, self.branch, self.values_file, self.timeout_s = remote, branch, values_file, timeout_s
        if not (path / "HEAD").exists():
            path.mkdir(parents=True, exist_ok=True)
            subprocess.run(["git", "init", "--quiet", "--bare", str(path)], check=True, capture_output=True)
        self.git = Git(path)

    # -- reading -------------------------------------------------------------------------------------------------

    def fetch(self) -> str | None:
        """The remote branch's head, fetched; None when the remote has no such branch yet."""
        ref = f"refs/heads/{self.branch}"
        listed = self._remote("ls-remote", "--", self.remote.url, ref).stdout.decode().split()
        if not listed:
            return None
        self._remote("fetch", "--quiet", "--no-tags", "--", self.remote.url, f"+{ref}:{FETCHED}")
        return self.git.out("rev-parse", FETCHED)

    def values_at(self, commit: str | None, file: str | None = None) -> dict | None:
        """The values file (or `file`, e.g. the deployer's own) at `commit`; None when it has none."""
        if commit is None:
            return None
        file = file or self.values_file
        found = self.git.blobs([f"{commit}:{file}"])[f"{commit}:{file}"]
        if found is None:
            return None
        try:
            values = json.loads(found)
        except ValueError as error:
            raise GitOpsUnavailable(f"{file} at {commit[:12]} is not JSON ({error}); only the deployer "
                                    "writes it: restore the deployer's last version") from None
        if not isinstance(values, dict):
            raise GitOpsUnavailable(f"{file} at {commit[:12]} is not a JSON object")
        return values

    def release_at(self, commit: str | None) -> str | None:
        """The civitas commit whose values `commit` holds."""
        values = self.values_at(commit) or {}
        return (values.get("release") or {}).get("commit")

    # -- writing -------------------------------------------------------------------------------------------------

    def commit(self, parent: str | None, values: dict | None, message: str, at_s: int,
               others: dict[str, dict | None] | None = None) -> str:
        """A commit on `parent` whose values file is `values` (removed when None), and each file of `others` its
        values (the deployer's own); the rest of the tree kept."""
        with tempfile.TemporaryDirectory(prefix="civitas-gitops-") as scratch:
            env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
            self.git.run("read-tree", *([f"{parent}^{{tree}}"] if parent else ["--empty"]), env=env)
            for file, content in {self.values_file: values, **(others or {})}.items():
                if content is None:
                    self.git.run("update-index", "--index-info", input=f"0 {'0' * 40}\t{file}\n".encode(),
                                 env=env)  # mode 0 drops the entry: no work tree needed
                else:
                    text = json.dumps(content, indent=2, sort_keys=True) + "\n"
                    blob = self.git.out("hash-object", "-w", "--stdin", input=text.encode())
                    self.git.run("update-index", "--add", "--cacheinfo", f"100644,{blob},{file}", env=env)
            tree = self.git.out("write-tree", env=env)
        dated = {"GIT_AUTHOR_NAME": "civitas", "GIT_AUTHOR_EMAIL": "civitas@localhost",
                 "GIT_AUTHOR_DATE": f"@{at_s} +0000", "GIT_COMMITTER_DATE": f"@{at_s} +0000"}
        return self.git.out("commit-tree", tree, *(["-p", parent] if parent else []), input=message.encode(),
                            env=dated)

    def push(self, commit: str) -> None:
        """`commit` as the remote branch; never forced, so a branch that moved meanwhile refuses it."""
        self._remote("push", "--porcelain", "--", self.remote.url, f"{commit}:refs/heads/{self.branch}")

    def commit_before(self, head: str, differs) -> tuple[bool, str | None]:
        """(found, the newest first-parent ancestor of `head` for which `differs(commit)`): what a revert restores.
        Not found within HISTORY_READ commits: (False, None); the whole history alike: (True, None), nothing before."""
        commits = self.git.out("rev-list", "--first-parent", f"--max-count={HISTORY_READ}", head).split()
        for commit in commits:
            if differs(commit):
                return True, commit
        return len(commits) < HISTORY_READ, None

    def _remote(self, *args: str) -> subprocess.CompletedProcess:
        env = {k: os.environ[k] for k in _ENV_KEPT if k in os.environ} | self.remote.push_env() | {
            "GIT_SSH_COMMAND": "ssh -o BatchMode=yes"}
        try:
            return self.git.run(*self.remote.push_config(), *args, env=env, timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            raise GitOpsUnavailable(f"git {args[0]} to {self.remote.url} gave no answer within "
                                    f"{self.timeout_s:g} s") from None
        except GitError as error:
            lines = [line for line in error.stderr.strip().splitlines() if line.strip()]
            said = self.remote.scrub(" / ".join(lines[-3:]) or f"failed ({error.returncode})")[:500]
            raise GitOpsUnavailable(f"git {args[0]} to {self.remote.url}: {said}") from None
