"""The third-party packages every release shares: one base environment per constraints.txt, made from what is installed.

Nothing is downloaded at deploy time: a release's pins must be what this machine already has. The base is the
installed environment's site-packages without civitas's own packages, hard-linked (copied across file systems)
into CIVITAS_HOME/deployer/base/<hash of constraints.txt>/, made once and reused by every release with the same pins.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)")
OURS = re.compile(r"^(civitas|_?_?editable__|__editable__)", re.IGNORECASE)  # civitas's packages, editable or not


class PinsNotHere(ValueError):
    """constraints.txt pins a version this machine does not have (and nothing may be downloaded)."""


def constraints_hash(constraints: bytes) -> str:
    return hashlib.sha256(constraints).hexdigest()[:16]


def pins(constraints: bytes) -> dict[str, str]:
    """name (normalised) -> version, for each `name==version` line."""
    found = {}
    for line in constraints.decode("utf-8", errors="replace").splitlines():
        m = PIN.match(line)
        if m:
            found[_normal(m.group(1))] = m.group(2)
    return found


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed() -> dict[str, str]:
    """What this interpreter's environment holds: name (normalised) -> version."""
    return {_normal(d.metadata["Name"]): d.version for d in metadata.distributions() if d.metadata["Name"]}


def check_pins(constraints: bytes, have: dict[str, str]) -> None:
    """Raise PinsNotHere naming every pin whose version differs from the installed one."""
    wrong = [f"{name}=={want} (this machine has {have[name]})"
             for name, want in sorted(pins(constraints).items()) if name in have and have[name] != want]
    if wrong:
        raise PinsNotHere("constraints.txt pins versions that are not on this machine, and nothing is downloaded "
                          "at deploy time: " + ", ".join(wrong))


def site_packages(prefix: Path) -> Path:
    """The site-packages directory of the environment at `prefix` (same Python as this one)."""
    rel = Path(sysconfig.get_path("purelib")).relative_to(sys.prefix)
    return Path(prefix) / rel


def ensure_base(root: Path, constraints: bytes) -> Path:
    """The base site-packages for `constraints`, made from this environment on first need; its path."""
    check_pins(constraints, installed())
    base = Path(root).resolve() / constraints_hash(constraints)  # resolved: the sandbox binds it at this path
    target = base / "site-packages"
    if (base / "done").exists():
        return target
    partial = Path(root) / (base.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)  # left by a build that was interrupted
    source = site_packages(Path(sys.prefix))
    shutil.copytree(source, partial / "site-packages", copy_function=_link_or_copy, symlinks=True,
                    ignore=lambda _dir, names: [n for n in names if OURS.match(n)] if _dir == str(source) else [])
    (partial / "constraints.txt").write_bytes(constraints)
    (partial / "done").write_text("made from " + str(source) + "\n")
    shutil.rmtree(base, ignore_errors=True)
    os.replace(partial, base)
    return target


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
