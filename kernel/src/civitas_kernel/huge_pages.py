"""Running a process that compiles records with glibc's heap on huge pages.

A record of a million voters makes and frees arrays and buffers of hundreds of megabytes again and again. With
small pages each one is faulted in 4 KiB at a time, and on a virtual machine each fault is dear: at a million
voters this was a quarter of a list's or a count's time. numpy asks for huge pages for its own large arrays;
glibc's heap, which holds every bytes object, asks only when the tunable `glibc.malloc.hugetlb=1` is set, and
glibc reads tunables once, as the process starts. So a command that compiles runs itself again with it set
(the same process id, arguments and streams). It does nothing elsewhere than Linux with glibc, where the system
has no transparent huge pages, when it is set already, or with CIVITAS_HUGE_PAGES=0.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

TUNABLE = "glibc.malloc.hugetlb"
_THP = "/sys/kernel/mm/transparent_hugepage/enabled"


def environ_on_huge_pages(environ: Mapping[str, str], thp_mode: str | None, libc: str | None) -> dict[str, str] | None:
    """The environment to run again with, or None when there is nothing to change (see the module's doc).

    thp_mode: the system's transparent huge page mode ("always", "madvise", "never"; None when it has none);
    libc: the C library's name and version, as os.confstr("CS_GNU_LIBC_VERSION") gives it (None: not glibc).
    """
    if environ.get("CIVITAS_HUGE_PAGES") == "0" or thp_mode not in ("always", "madvise"):
        return None
    if not libc or not libc.startswith("glibc"):
        return None
    tunables = environ.get("GLIBC_TUNABLES", "")
    if any(t.partition("=")[0] == TUNABLE for t in tunables.split(":")):
        return None  # set already, maybe to another value on purpose: left as it is
    return {**environ, "GLIBC_TUNABLES": ":".join(filter(None, [tunables, f"{TUNABLE}=1"]))}


def thp_mode() -> str | None:
    """The system's transparent huge page mode, the bracketed word of its setting; None where there is none."""
    try:
        with open(_THP) as f:
            words = f.read().split()
    except OSError:
        return None
    return next((w.strip("[]") for w in words if w.startswith("[")), None)


def run_again_on_huge_pages() -> None:
    """Replace this process by itself with the tunable set, when it changes anything; otherwise return."""
    if sys.platform != "linux":
        return
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION")
    except (ValueError, OSError):
        libc = None
    environ = environ_on_huge_pages(os.environ, thp_mode(), libc)
    if environ is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], environ)
