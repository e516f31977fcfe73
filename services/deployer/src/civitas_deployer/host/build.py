"""Building a release offline: its own virtual environment over the shared base of third-party packages, and
civitas's packages installed from the release's own source with pip --no-index --no-deps --no-build-isolation.

Each civitas package is installed (pip install --target) into a folder named by the hash of its source, built from
a scratch copy so the release's tree is never written; a release whose package is byte-identical to one built
before reuses that folder, so a change to one package rebuilds only that package. The release's venv names the
base and its packages' folders in a .pth file and gets a `civitas` command.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from civitas_deployer.deploying.runner import ReleaseFailed
from civitas_deployer.host.base_env import PinsNotHere, ensure_base, site_packages
from civitas_deployer.host.log_tail import tail

# Where civitas's packages sit in its source tree; "." is the site package (src/civitas and the command).
PACKAGES = ("kernel", "services/registry", "services/polls", "services/counter", "services/gateway",
            "services/deployer", "services/sync", "services/drafts", ".")
BUILD_TIMEOUT_S = 600
PTH = "_civitas_release.pth"
LAUNCHER = "#!{python}\nimport sys\nfrom civitas.cli import run\nsys.exit(run())\n"


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def package_files(tree: Path, package: str) -> list[Path]:
    """What a package is built from: its folder; for the site package, the root's files and src/ only."""
    root = tree / package
    if package == ".":
        tops = [p for p in root.iterdir() if p.is_file()] + [root / "src"]
    else:
        tops = [root]
    files = []
    for top in tops:
        files += [top] if top.is_file() else [p for p in top.rglob("*") if p.is_file() or p.is_symlink()]
    return sorted(files)


def package_hash(tree: Path, package: str) -> str:
    digest = hashlib.sha256(package.encode() + b"\0")
    for path in package_files(tree, package):
        rel = str(path.relative_to(tree / package)).encode()
        data = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
        digest.update(b"%d\0%s\0%d\0" % (len(rel), rel, len(data)) + data)
    return digest.hexdigest()[:20]


def build_release(release: Path, state: Path, timeout_s: float = BUILD_TIMEOUT_S) -> Path:
    """Make release/venv from release/tree; its path. ReleaseFailed("building", ...) with the build log's tail.

    state: the deployer's folder (base environments in state/base, built packages in state/packages)."""
    tree, venv, log = release / "tree", release / "venv", release / "build.log"
    if (venv / "built").exists():  # built before a restart: a release never changes
        return venv
    missing = [p for p in PACKAGES if not (tree / p / "pyproject.toml").is_file()]
    if missing:
        raise ReleaseFailed("building", "the release has no civitas source to build: no pyproject.toml in "
                            + ", ".join(missing))
    constraints = tree / "constraints.txt"
    try:
        base = ensure_base(state / "base", constraints.read_bytes() if constraints.exists() else b"")
    except PinsNotHere as e:
        raise ReleaseFailed("building", str(e)) from None
    started = time.monotonic()
    deadline = started + timeout_s
    partial = release / "venv.partial"
    shutil.rmtree(partial, ignore_errors=True)  # a build interrupted by a crash starts over
    with open(log, "wb") as out:
        folders = [_package(tree, p, state / "packages", base, out, deadline) for p in PACKAGES]
        _step(out, [sys._base_executable, "-m", "venv", "--without-pip", str(partial)], deadline)
        (site_packages(partial) / PTH).write_text("".join(f"{f}\n" for f in [*folders, base]))
        launcher = partial / "bin" / "civitas"
        launcher.write_text(LAUNCHER.format(python=venv_python(venv)))
        launcher.chmod(0o755)
        _step(out, [sys.executable, "-m", "pip", "--python", str(venv_python(partial)), "check",
                    "--disable-pip-version-check"], deadline)
    (partial / "built").write_text(f"built in {time.monotonic() - started:.1f} s\n")
    shutil.rmtree(venv, ignore_errors=True)
    os.replace(partial, venv)
    cfg = venv / "pyvenv.cfg"
    cfg.write_text(cfg.read_text().replace(str(partial), str(venv)))
    return venv


def _package(tree: Path, package: str, built: Path, base: Path, out, deadline: float) -> Path:
    """The folder holding `package` installed from this tree's source: made now unless made before."""
    folder = built.resolve() / package_hash(tree, package)  # resolved: the sandbox binds it at this very path
    if (folder / "done").exists():
        out.write(f"{package}: {folder.name}, built before\n".encode())
        return folder / "lib"
    built.mkdir(parents=True, exist_ok=True)
    partial = built / (folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="civitas-build-") as scratch:
        source = Path(scratch) / "source"
        source.mkdir()
        for path in package_files(tree, package):  # a copy: building writes egg-info and build/ beside the source
            target = source / path.relative_to(tree / package)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target, follow_symlinks=False)
        env = {"PYTHONPATH": str(base)}  # setuptools and the build backends come from the base, nothing is fetched
        _step(out, [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
                    "--no-build-isolation", "--no-cache-dir", "--disable-pip-version-check", "--no-compile",
                    "--target", str(partial / "lib"), str(source)], deadline, extra_env=env)
    subprocess.run([sys._base_executable, "-m", "compileall", "-q", str(partial / "lib")],
                   stdout=out, stderr=subprocess.STDOUT, check=False)
    shutil.rmtree(partial / "lib" / "bin", ignore_errors=True)  # its scripts name scratch paths: a launcher instead
    (partial / "done").write_text(f"{package}\n")
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(partial, folder)
    return folder / "lib"


def _step(out, args: list[str], deadline: float, extra_env: dict[str, str] | None = None) -> None:
    out.write(("$ " + " ".join(args) + "\n").encode())
    out.flush()
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TMPDIR")} | {"PIP_NO_INPUT": "1"}
    try:
        done = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, env=env | (extra_env or {}),
                              timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        raise ReleaseFailed("building", f"the build took too long (over {BUILD_TIMEOUT_S} s)",
                            tail(Path(out.name))) from None
    if done.returncode != 0:
        raise ReleaseFailed("building", f"{Path(args[0]).name} {' '.join(args[1:4])} ... failed "
                            f"(exit {done.returncode})", tail(Path(out.name)))
