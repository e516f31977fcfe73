"""Building a release offline: its own virtual environment, the shared base for third-party packages, and civitas's
packages installed from the release's own source with pip --no-index --no-deps --no-build-isolation."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from civitas_deployer.host.base_env import PinsNotHere, ensure_base, site_packages
from civitas_deployer.deploying.runner import ReleaseFailed
from civitas_deployer.host.log_tail import tail

# Where civitas's packages sit in its source tree; the site package (the root) last, as the Makefile installs it.
PACKAGES = ("kernel", "services/registry", "services/polls", "services/counter", "services/gateway",
            "services/deployer", "services/sync", "services/drafts", ".")
BUILD_TIMEOUT_S = 600


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def build_release(release: Path, base_root: Path, timeout_s: float = BUILD_TIMEOUT_S) -> Path:
    """Make release/venv from release/tree; its path. ReleaseFailed("building", ...) with the build log's tail."""
    tree, venv, log = release / "tree", release / "venv", release / "build.log"
    if (venv / "built").exists():  # built before a restart: a release never changes
        return venv
    missing = [p for p in PACKAGES if not (tree / p / "pyproject.toml").is_file()]
    if missing:
        raise ReleaseFailed("building", "the release has no civitas source to build: no pyproject.toml in "
                            + ", ".join(missing))
    constraints = tree / "constraints.txt"
    try:
        base = ensure_base(base_root, constraints.read_bytes() if constraints.exists() else b"")
    except PinsNotHere as e:
        raise ReleaseFailed("building", str(e)) from None
    partial = release / "venv.partial"
    shutil.rmtree(partial, ignore_errors=True)  # a build interrupted by a crash starts over
    with open(log, "wb") as out:
        started = time.monotonic()
        _step(out, [sys._base_executable, "-m", "venv", "--without-pip", str(partial)], timeout_s)
        (site_packages(partial) / "_civitas_base.pth").write_text(str(base) + "\n")
        # The venv is made at venv.partial and moved to venv: pip writes absolute script paths, so it installs
        # from the final path's point of view through a symlink that is replaced by the directory afterwards.
        _step(out, [sys.executable, "-m", "pip", "--python", str(venv_python(partial)), "install", "--quiet",
                    "--no-index", "--no-deps", "--no-build-isolation", "--no-cache-dir", "--disable-pip-version-check",
                    *[str(tree / p) for p in PACKAGES]], timeout_s - (time.monotonic() - started), cwd=tree)
        _step(out, [sys.executable, "-m", "pip", "--python", str(venv_python(partial)), "check",
                    "--disable-pip-version-check"], timeout_s - (time.monotonic() - started))
    if not (partial / "bin" / "civitas").exists():
        raise ReleaseFailed("building", "the release installs no `civitas` command", tail(log))
    (partial / "built").write_text(f"built in {time.monotonic() - started:.1f} s\n")
    shutil.rmtree(venv, ignore_errors=True)
    os.replace(partial, venv)
    _repoint_scripts(venv, partial)
    return venv


def _step(out, args: list[str], timeout_s: float, cwd: Path | None = None) -> None:
    out.write(("$ " + " ".join(args) + "\n").encode())
    out.flush()
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TMPDIR")} | {"PIP_NO_INPUT": "1"}
    try:
        done = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=env,
                              timeout=max(1.0, timeout_s))
    except subprocess.TimeoutExpired:
        raise ReleaseFailed("building", f"the build took longer than {BUILD_TIMEOUT_S} s",
                            tail(Path(out.name))) from None
    if done.returncode != 0:
        raise ReleaseFailed("building", f"{Path(args[0]).name} {' '.join(args[1:4])} ... failed "
                            f"(exit {done.returncode})", tail(Path(out.name)))


def _repoint_scripts(venv: Path, old: Path) -> None:
    """Scripts pip wrote name venv.partial's python; they must name the venv's own."""
    for script in (venv / "bin").iterdir():
        if script.is_file() and not script.is_symlink():
            data = script.read_bytes()
            if data.startswith(b"#!") and str(old).encode() in data[:512]:
                script.write_bytes(data.replace(str(old).encode(), str(venv).encode(), 1))
    cfg = venv / "pyvenv.cfg"
    cfg.write_text(cfg.read_text().replace(str(old), str(venv)))
