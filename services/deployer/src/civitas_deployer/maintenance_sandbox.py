"""A maintenance command run in bubblewrap: no network, no site files, no credential, as nobody, time-bounded.

Only /usr is visible (read-only), with a scratch /tmp; the environment is cleared. A machine without bwrap runs
no command at all: the run is recorded as not available, never run outside the sandbox. On Kubernetes, where a pod
cannot make bubblewrap's namespaces, the deployer runs each command as a Job instead (gitops/maintenance_jobs.py):
both are a CommandSandbox.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from typing import Protocol

NOT_AVAILABLE, TIMED_OUT = 127, 124
MAX_OUTPUT = 16 * 1024


def sandbox_argv(bwrap: str, command: tuple[str, ...]) -> list[str]:
    return [bwrap, "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534", "--die-with-parent",
            "--new-session", "--cap-drop", "ALL", "--clearenv", "--setenv", "PATH", "/usr/bin:/bin",
            "--setenv", "HOME", "/tmp", "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin",
            "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/sbin", "/sbin",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--chdir", "/tmp", "--", *command]


def run_sandboxed(command: tuple[str, ...], timeout_s: int) -> tuple[int, str, int]:
    """(exit code, the tail of its output, milliseconds taken)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return NOT_AVAILABLE, "maintenance commands run only in bubblewrap, which this machine lacks " \
                              "(apt-get install bubblewrap); nothing was run", 0
    started = time.monotonic()
    process = subprocess.Popen(sandbox_argv(bwrap, command), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = process.communicate(timeout=timeout_s)
        code = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, _ = process.communicate()
        code, out = TIMED_OUT, out + f"\n(stopped after {timeout_s} s)".encode()
    took = int((time.monotonic() - started) * 1000)
    return code, out[-MAX_OUTPUT:].decode("utf-8", "replace"), took


def is_command(runs: str) -> bool:
    """Whether a run's `runs` names a command (its words, from an absolute path) rather than a built-in."""
    return runs.startswith("/")


class CommandSandbox(Protocol):
    """Where a voted command runs: run it ((exit code, output's tail, ms)); after a stop of the deployer, what became
    of one begun before (None: it never began there); forget what held it once its outcome is recorded."""

    outlives_process: bool  # whether a run goes on when the deployer stops (a Job does; a child process does not)

    def run(self, command: tuple[str, ...], timeout_s: int, run) -> tuple[int, str, int]: ...

    def resume(self, run) -> tuple[int, str, int] | None: ...

    def forget(self, run) -> None: ...


class Bubblewrap:
    """A command as a child of the deployer, in bubblewrap: it dies with the deployer, so a stop interrupts it."""

    outlives_process = False

    def run(self, command: tuple[str, ...], timeout_s: int, run=None) -> tuple[int, str, int]:
        return run_sandboxed(command, timeout_s)

    def resume(self, run) -> None:
        return None

    def forget(self, run) -> None:
        pass


BUBBLEWRAP = Bubblewrap()
