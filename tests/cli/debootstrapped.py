"""A real Debian root to lock out, made by debootstrap once and kept as a tarball; each test unpacks its own copy.

The lock-out is tried only in such a tree, never on the machine the tests run on. It needs root (chroot,
useradd --root) and debootstrap (`apt-get install debootstrap`; .ci/run installs it); the first run downloads
Debian's minimal base with openssh-server from the machine's Debian mirror.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

MIRROR = os.environ.get("CIVITAS_TEST_DEBIAN_MIRROR", "http://deb.debian.org/debian")
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "civitas-tests" / "bookworm-lockdown.tar"


def _made_once() -> Path:
    if CACHE.exists():
        return CACHE
    debootstrap = shutil.which("debootstrap")
    if debootstrap is None:
        raise RuntimeError("the lock-out tests need debootstrap: apt-get install debootstrap")
    tree = CACHE.with_suffix(".tree")
    shutil.rmtree(tree, ignore_errors=True)
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([debootstrap, "--variant=minbase", "--include=openssh-server,passwd", "bookworm", str(tree),
                    MIRROR], check=True, capture_output=True)
    partial = CACHE.with_suffix(".partial")
    subprocess.run(["tar", "-C", str(tree), "--numeric-owner", "-cf", str(partial), "."], check=True)
    os.replace(partial, CACHE)
    shutil.rmtree(tree, ignore_errors=True)
    return CACHE


def unpack(into: Path) -> Path:
    """A fresh Debian root at `into`."""
    into.mkdir(parents=True)
    subprocess.run(["tar", "-C", str(into), "--numeric-owner", "-xpf", str(_made_once())], check=True)
    return into


def inside(root: Path, *argv: str, stdin: str | None = None) -> str:
    """Run a program of the root's own, chrooted into it; its output."""
    done = subprocess.run(["chroot", str(root), *argv], input=stdin, capture_output=True, text=True,
                          env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"})
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed in {root}: {done.stderr}")
    return done.stdout
