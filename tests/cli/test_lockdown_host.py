"""`civitas lockdown` on a real Debian root (debootstrapped, chrooted into): dry run first, then for real."""

from __future__ import annotations

import hashlib
import os
import subprocess

import pytest

from civitas.cli import main
from civitas.exit_status import ExitStatus

from .debootstrapped import inside, unpack

HOME = "/var/lib/civitas"
pytestmark = pytest.mark.slow


@pytest.fixture
def host(tmp_path, monkeypatch):
    """A Debian root as an operator leaves it: root and alice log in with passwords and keys, a site runs."""
    assert os.geteuid() == 0, "the lock-out is tried in a chroot, with useradd --root: run the tests as root"
    root = unpack(tmp_path / "root")
    inside(root, "useradd", "--create-home", "--shell", "/bin/bash", "alice")
    inside(root, "chpasswd", stdin="root:correct-horse\nalice:battery-staple\n")
    for home in ("root", "home/alice"):
        (root / home / ".ssh").mkdir(mode=0o700, exist_ok=True)
        (root / home / ".ssh" / "authorized_keys").write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOperator op\n")
    site = root / HOME.lstrip("/")
    subprocess.run(["git", "init", "--quiet", "--bare", str(site / "live.git")], check=True)
    os.chown(site / "live.git", 1000, 1000)  # as a careless operator leaves it: the site could rewrite it
    (site / "operator-token").write_text("operator-token-for-tests-0123456789\n")
    (root / "run" / "sshd").mkdir(parents=True, exist_ok=True)  # sshd -T wants its privilege separation dir
    monkeypatch.setenv("CIVITAS_HOME", HOME)
    monkeypatch.setenv("CIVITAS_SITE", "town.example.org")
    return root


def fingerprint(root) -> str:
    """What the lock-out would change: accounts, units, sshd's configuration, keys, the site's files."""
    digest = hashlib.sha256()
    for place in ("etc/passwd", "etc/shadow", "root/.ssh", "home/alice/.ssh", "etc/ssh/sshd_config.d",
                  "etc/systemd/system", HOME.lstrip("/")):
        for path in sorted((root / place).rglob("*")) if (root / place).is_dir() else [root / place]:
            st = path.lstat()
            digest.update(f"{path.relative_to(root)} {st.st_mode} {st.st_uid}\n".encode())
            if path.is_file() and not path.is_symlink():
                digest.update(path.read_bytes())
    return digest.hexdigest()


def test_a_dry_run_prints_every_step_and_changes_nothing(host, capsys):
    before = fingerprint(host)
    assert main(["lockdown", "--root", str(host)]) == ExitStatus.SUCCESS
    said = capsys.readouterr().out
    for step in ("lock root's password", "mask getty@.service", "mask ssh.service", "remove /root/.ssh/authorized_keys",
                 "lock and expire alice's account", "mark the site self-governed", "refuse every SSH login"):
        assert step in said
    assert "nothing changed" in said and "[would do]" in said
    assert fingerprint(host) == before


def test_applied_nobody_logs_in_and_the_site_refuses_its_operator(host, capsys, monkeypatch):
    assert main(["lockdown", "--root", str(host), "--apply"]) == ExitStatus.SUCCESS
    assert inside(host, "passwd", "--status", "root").split()[1] == "L"
    assert inside(host, "passwd", "--status", "alice").split()[1] == "L"
    assert "Jan 02, 1970" in inside(host, "chage", "--list", "alice")  # expired: not even a key or PAM login
    assert inside(host, "getent", "passwd", "alice").strip().endswith(":/usr/sbin/nologin")
    assert inside(host, "getent", "passwd", "root").strip().endswith(":/bin/bash")  # root's jobs still run
    for unit in ("getty@.service", "serial-getty@.service", "debug-shell.service", "ssh.service", "ssh.socket"):
        assert os.readlink(host / "etc/systemd/system" / unit) == "/dev/null"
    sshd = inside(host, "/usr/sbin/sshd", "-T", "-C", "user=root,host=example.org,addr=192.0.2.1")
    assert "denyusers *" in sshd and "permitrootlogin no" in sshd and "passwordauthentication no" in sshd
    assert not (host / "root/.ssh/authorized_keys").exists() and not (host / "home/alice/.ssh/authorized_keys").exists()
    site = host / HOME.lstrip("/")
    assert not (site / "operator-token").exists()
    assert (site / "live.git").stat().st_uid == 0 and not (site / "live.git").stat().st_mode & 0o022
    assert inside(host, "getent", "passwd", "civitas-site").strip().endswith(":/usr/sbin/nologin")
    capsys.readouterr()
    monkeypatch.setenv("CIVITAS_HOME", str(site))  # the site itself, seen from this machine
    assert main(["poll", "create", "mayor"]) == ExitStatus.ERROR
    assert "town.example.org governs itself since" in capsys.readouterr().err


def test_applied_again_it_finds_everything_already_so(host, capsys):
    assert main(["lockdown", "--root", str(host), "--apply"]) == ExitStatus.SUCCESS
    after = fingerprint(host)
    capsys.readouterr()
    assert main(["lockdown", "--root", str(host), "--apply"]) == ExitStatus.SUCCESS
    assert "0 steps taken" in capsys.readouterr().out
    assert fingerprint(host) == after


def test_a_directory_that_is_no_host_is_refused(tmp_path, capsys):
    assert main(["lockdown", "--root", str(tmp_path), "--apply"]) == ExitStatus.ERROR
    assert "not a host's root directory" in capsys.readouterr().err
