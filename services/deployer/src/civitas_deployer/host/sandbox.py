"""What a release's site process sees: bubblewrap with only the system, its own release and the site's data.

The site key, the deployer's files (CIVITAS_HOME/deployer: state, base environments, the key socket's folder is
bound alone), other releases and the mirror's credentials are not in its view or its environment. Inside, the
release is `releases/live` of CIVITAS_HOME (a symlink to its own commit), so what it serves is its own files.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/etc")
SIGNER_DIR = "/run/civitas"  # where the key socket appears inside
SECRET_FILES = ("site-key.pem",)
HIDDEN_DIRS = ("deployer", "releases")
# Never passed to a release: the mirror's URLs carry its credentials.
# CIVITAS_RELEASES: a release's own sits at CIVITAS_HOME/releases in its view.
# CIVITAS_FORWARDED_ALLOW_IPS: the supervisor's proxy is a release's only one, believed by its pass alone.
WITHHELD = ("CIVITAS_MIRROR_URLS", "CIVITAS_SIGNER_SOCKET", "CIVITAS_DEPLOY_HOLD_AT", "CIVITAS_RELEASES",
            "CIVITAS_FORWARDED_ALLOW_IPS")


class SandboxMissing(RuntimeError):
    """bubblewrap is not installed: a release would see the site key, so none is started."""


def bwrap() -> str:
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxMissing("host mode runs each release under bubblewrap, which is not installed: "
                             "apt-get install bubblewrap (or your system's package of it)")
    return path


def child_env(environ: dict[str, str], home: Path, port: int, live_repo: Path | None = None) -> dict[str, str]:
    """The release's environment: the site's CIVITAS_* settings without what it must not know, and where to listen;
    live_repo: the repository its site writes proposals to (in host mode the proposals repository)."""
    env = {k: v for k, v in environ.items() if k.startswith("CIVITAS_") and k not in WITHHELD
           and "MIRROR" not in k and "SECRET" not in k}
    env |= {"CIVITAS_HOME": str(home), "CIVITAS_HOST": "127.0.0.1", "CIVITAS_PORT": str(port),
            "CIVITAS_SIGNER_SOCKET": f"{SIGNER_DIR}/signer.sock", "CIVITAS_SUPERVISED": "1",
            "HOME": "/tmp", "PATH": "/usr/bin:/bin",
            "LANG": environ.get("LANG", "C.UTF-8"), "PYTHONDONTWRITEBYTECODE": "1"}
    if live_repo is not None:
        env["CIVITAS_LIVE_REPO"] = str(live_repo)
    return env


def sandboxed(argv: list[str], *, home: Path, release: Path, commit: str, shared: tuple[Path, ...], signer_dir: Path,
              env: dict[str, str], writable: tuple[Path, ...] = (), read_only: tuple[Path, ...] = ()) -> list[str]:
    """The bwrap command line running `argv` for the release at `release` (CIVITAS_HOME/releases/<commit>), which
    also reads `shared` (the base environment and its built packages), read only; `read_only` are bound read only
    over CIVITAS_HOME (the live repository, which no release may write)."""
    args = [bwrap(), "--unshare-user", "--uid", "65534", "--gid", "65534", "--unshare-pid", "--unshare-ipc",
            "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent", "--cap-drop", "ALL", "--clearenv"]
    for name, value in sorted(env.items()):
        args += ["--setenv", name, value]
    for path in SYSTEM:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/run"]
    home = Path(home)
    args += ["--bind", str(home), str(home)]
    for extra in writable:  # e.g. a live repository kept outside CIVITAS_HOME
        args += ["--bind", str(extra), str(extra)]
    for path in read_only:
        args += ["--ro-bind", str(path), str(path)]
    for name in SECRET_FILES:
        if (home / name).exists():
            args += ["--ro-bind", "/dev/null", str(home / name)]
    for name in HIDDEN_DIRS:
        if (home / name).exists():
            args += ["--tmpfs", str(home / name)]
    for path in sorted({Path(sys.base_prefix).resolve(), *(Path(p).resolve() for p in shared)}):  # read only
        if not any(str(path).startswith(s + "/") for s in SYSTEM):
            args += ["--ro-bind", str(path), str(path)]
    args += ["--ro-bind", str(release), str(home / "releases" / commit),
             "--symlink", commit, str(home / "releases" / "live"),
             "--ro-bind", str(signer_dir), SIGNER_DIR, "--chdir", "/tmp", "--", *argv]
    return args
