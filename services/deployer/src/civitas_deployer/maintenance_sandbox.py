"""A maintenance command run in bubblewrap: no network, no site files, no credential, as nobody, time-bounded.

Only /usr is visible (read-only), with a scratch /tmp; the environment is cleared. A machine without bwrap runs
no command at all: the run is recorded as not available, never run outside the sandbox.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

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
