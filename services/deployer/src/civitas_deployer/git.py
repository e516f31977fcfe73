"""Running the real `git` binary on the live repository: one place for its environment and its errors."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

# No user's or system's configuration, hooks, pager or prompt may change what git does to the live repository.
_BASE_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_PAGER": "cat",
    "LC_ALL": "C",
    "TZ": "UTC",
}
_KEPT = ("PATH", "SYSTEMROOT", "TMPDIR")  # what git needs from the environment to run at all
IDENTITY = {"GIT_COMMITTER_NAME": "civitas", "GIT_COMMITTER_EMAIL": "civitas@localhost"}


class GitError(RuntimeError):
    """git failed where it should not have; the live repository is not as civitas left it."""

    def __init__(self, args: tuple[str, ...], returncode: int, stderr: str) -> None:
        super().__init__(f"git {' '.join(args)} failed ({returncode}): {stderr.strip()}")
        self.returncode, self.stderr = returncode, stderr


class Git:
    def __init__(self, git_dir: Path) -> None:
        self.git_dir = Path(git_dir)
        self.env = {k: os.environ[k] for k in _KEPT if k in os.environ} | _BASE_ENV | IDENTITY
        self.env["GIT_DIR"] = str(self.git_dir)

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        check: bool = True,
        timeout: float | None = None,
    ) -> subprocess.CompletedProcess:
        """git ARGS; subprocess.TimeoutExpired after `timeout` seconds (the process is killed)."""
        done = subprocess.run(
            ["git", "-c", "core.hooksPath=" + os.devnull, *args],
            input=input, capture_output=True, env=self.env | dict(env or {}), cwd=cwd or self.git_dir, check=False,
            timeout=timeout,
        )
        if check and done.returncode != 0:
            raise GitError(args, done.returncode, done.stderr.decode(errors="replace"))
        return done

    def read_at_most(self, limit: int, *args: str, env: Mapping[str, str] | None = None) -> bytes:
        """The first limit + 1 bytes git writes (enough to know it wrote too much), without holding more in memory."""
        with tempfile.TemporaryFile() as errors, subprocess.Popen(
            ["git", "-c", "core.hooksPath=" + os.devnull, *args], stdout=subprocess.PIPE, stderr=errors,
            env=self.env | dict(env or {}), cwd=self.git_dir,
        ) as process:
            data = process.stdout.read(limit + 1)
            if len(data) > limit:
                process.kill()
                return data
            if process.wait() != 0:
                errors.seek(0)
                raise GitError(args, process.returncode, errors.read().decode(errors="replace"))
        return data

    def out(self, *args: str, **kw) -> str:
        return self.run(*args, **kw).stdout.decode().strip()

    def blobs(self, names: list[str], env: Mapping[str, str] | None = None) -> dict[str, bytes | None]:
        """The contents of several blobs (an id, or COMMIT:PATH) in one `cat-file --batch`; None for a missing one."""
        if not names:
            return {}
        out = self.run("cat-file", "--batch", input="".join(f"{n}\n" for n in names).encode(), env=env).stdout
        found, at = {}, 0
        for name in names:
            end = out.index(b"\n", at)
            header = out[at:end].split(b" ")
            if header[-1] == b"missing":
                found[name], at = None, end + 1
                continue
            size = int(header[2])
            found[name], at = out[end + 1:end + 1 + size], end + 1 + size + 1
        return found
