"""Reading a host's facts for the lock-out plan and carrying out its steps, all under a root directory.

`root` is `/` for the machine itself, or a debootstrapped tree in the tests: the lock-out is never tried on
the machine that runs them. Accounts change through shadow's own tools (`usermod --root`, `useradd --root`).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from civitas_kernel.lockdown import LOCKDOWN_FILE, lockdown_of, mark_locked_down

from civitas_deployer.lockdown.plan import CONSOLE_UNITS, SITE_USER, SSH_UNITS, SSHD_DROP_IN, Account, Facts

HostFacts = Facts
SEALED = ("live.git", "releases", "site-key.pem", "site.key", LOCKDOWN_FILE)  # the deployer's, under CIVITAS_HOME
UNITS_DIR = "etc/systemd/system"


def _inside(root: Path, path: str) -> Path:
    return root / path.lstrip("/")


def _accounts(root: Path) -> tuple[Account, ...]:
    shadow = {}
    for line in _inside(root, "etc/shadow").read_text().splitlines():
        fields = line.split(":")
        if len(fields) >= 8:
            shadow[fields[0]] = fields
    found = []
    for line in _inside(root, "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if len(fields) < 7:
            continue
        entry = shadow.get(fields[0], [fields[0], "*", "", "", "", "", "", ""])
        found.append(Account(name=fields[0], uid=int(fields[2]), home=fields[5], shell=fields[6],
                             locked=entry[1].startswith(("!", "*")), expired=entry[7] not in ("", None)))
    return tuple(found)


def _unsealed(root: Path, home: str) -> tuple[str, ...]:
    found = []
    for name in SEALED:
        top = _inside(root, f"{home}/{name}")
        if not top.exists():
            continue
        for place in [top, *(top.rglob("*") if top.is_dir() else [])]:
            st = place.lstat()
            if st.st_uid != 0 or (not place.is_symlink() and st.st_mode & 0o022):
                found.append(str(top.relative_to(root)))
                break
    return tuple(found)


def read_facts(root: Path, home: str) -> Facts:
    root = Path(root)
    accounts = _accounts(root)
    units = _inside(root, UNITS_DIR)
    masked = frozenset(u for u in (*CONSOLE_UNITS, *SSH_UNITS)
                       if (units / u).is_symlink() and os.readlink(units / u) == "/dev/null")
    drop_in = _inside(root, SSHD_DROP_IN)
    keys = []
    for account in accounts:
        for name in ("authorized_keys", "authorized_keys2"):
            path = f"{account.home.rstrip('/')}/.ssh/{name}"
            if account.home not in ("", "/", "/nonexistent") and _inside(root, path).exists():
                keys.append(path)
    return Facts(accounts=accounts, masked=masked,
                 ssh_installed=_inside(root, "etc/ssh/sshd_config").exists() or _inside(root, "usr/sbin/sshd").exists(),
                 sshd_drop_in=drop_in.read_text() if drop_in.exists() else None,
                 authorized_keys=tuple(sorted(set(keys))), site_user=any(a.name == SITE_USER for a in accounts),
                 home=home, marked=lockdown_of(_inside(root, home)) is not None,
                 operator_token=_inside(root, f"{home}/operator-token").exists(), unsealed=_unsealed(root, home))


def _seal(top: Path) -> None:
    for place in [top, *(top.rglob("*") if top.is_dir() else [])]:
        os.lchown(place, 0, 0)
        if not place.is_symlink():
            os.chmod(place, place.stat().st_mode & ~0o022)


def _run(*argv: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.strip() or done.stdout.strip()}")


def apply_step(root: Path, action: tuple, site: str) -> None:
    """Carry out one step's action under root (idempotent: a step already so changes nothing)."""
    root = Path(root)
    kind, *args = action
    if kind == "mark":
        mark_locked_down(_inside(root, args[0]), site, time.time_ns() // 1000)
    elif kind == "remove":
        _inside(root, args[0]).unlink(missing_ok=True)
    elif kind == "add_site_user":
        _run("useradd", "--root", str(root), "--system", "--user-group", "--no-create-home",
             "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", args[0])
    elif kind == "seal":
        for name in SEALED:
            top = _inside(root, f"{args[0]}/{name}")
            if top.exists():
                _seal(top)
    elif kind == "write":
        path = _inside(root, args[0])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(args[1])
        os.chmod(path, 0o644)
    elif kind == "mask":
        link = _inside(root, f"{UNITS_DIR}/{args[0]}")
        link.parent.mkdir(parents=True, exist_ok=True)
        aside = link.with_name(f".{link.name}.civitas")
        aside.unlink(missing_ok=True)
        aside.symlink_to("/dev/null")
        os.replace(aside, link)  # what `systemctl mask` leaves, without needing systemd to run
    elif kind == "lock_password":
        _run("usermod", "--root", str(root), "--lock", args[0])
    elif kind == "retire_login":
        _run("usermod", "--root", str(root), "--lock", "--expiredate", "1", "--shell", "/usr/sbin/nologin", args[0])
    else:
        raise ValueError(f"unknown lock-out step {kind}")
