"""The lock-out's plan: what it does to a host, in which order, and what it leaves alone."""

from __future__ import annotations

from civitas_deployer.lockdown import Step, plan
from civitas_deployer.lockdown.plan import CONSOLE_UNITS, SSH_UNITS, SSHD_LOCKED, Account, Facts

ROOT = Account("root", 0, "/root", "/bin/bash", locked=False, expired=False)
ALICE = Account("alice", 1000, "/home/alice", "/bin/bash", locked=False, expired=False)
DAEMON = Account("www-data", 33, "/var/www", "/usr/sbin/nologin", locked=True, expired=False)


def facts(**changes) -> Facts:
    base = dict(accounts=(ROOT, ALICE, DAEMON), masked=frozenset(), ssh_installed=True, sshd_drop_in=None,
                authorized_keys=("/root/.ssh/authorized_keys",), site_user=False, home="/var/lib/civitas",
                marked=False, operator_token=True, unsealed=("var/lib/civitas/live.git",))
    return Facts(**(base | changes))


def keys(steps: list[Step]) -> list[str]:
    return [s.key for s in steps]


def test_the_site_is_marked_first_and_the_accounts_locked_last():
    steps = keys(plan(facts()))
    assert steps[0] == "site-mark"
    assert steps[-2:] == ["lock:root", "retire:alice"]
    assert "retire:www-data" not in steps  # a service account has no login to take


def test_every_console_and_ssh_unit_is_masked_and_the_keys_removed():
    steps = {s.key: s for s in plan(facts())}
    for unit in (*CONSOLE_UNITS, *SSH_UNITS):
        assert steps[f"mask:{unit}"].action == ("mask", unit)
    assert steps["keys:/root/.ssh/authorized_keys"].action == ("remove", "/root/.ssh/authorized_keys")
    assert steps["sshd-config"].action[2] == SSHD_LOCKED and "DenyUsers *" in SSHD_LOCKED


def test_root_keeps_its_shell_while_a_person_loses_theirs():
    steps = {s.key: s for s in plan(facts())}
    assert steps["lock:root"].action == ("lock_password", "root")
    assert steps["retire:alice"].action == ("retire_login", "alice")


def test_a_host_without_ssh_gets_no_ssh_steps():
    steps = keys(plan(facts(ssh_installed=False)))
    assert not [k for k in steps if "ssh" in k and not k.startswith("keys:")]
    assert "keys:/root/.ssh/authorized_keys" in steps  # a key left behind would open a later sshd


def test_a_host_already_locked_out_has_nothing_left_to_do():
    done = facts(accounts=(Account("root", 0, "/root", "/bin/bash", locked=True, expired=False),
                           Account("alice", 1000, "/home/alice", "/usr/sbin/nologin", locked=True, expired=True)),
                 masked=frozenset((*CONSOLE_UNITS, *SSH_UNITS)), sshd_drop_in=SSHD_LOCKED, authorized_keys=(),
                 site_user=True, marked=True, operator_token=False, unsealed=())
    assert [s.key for s in plan(done) if not s.done] == []
