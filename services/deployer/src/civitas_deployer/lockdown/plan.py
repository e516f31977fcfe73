"""The lock-out of a host, as a list of steps decided from what the host holds (pure: no I/O, no clock).

The door closes last: the site's own mark and the deployer's files come first and the accounts are locked at
the end, so a run that stops half-way leaves the operator able to finish it; every step is idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SITE_USER = "civitas-site"  # the site's processes run as this user, which cannot write the deployer's files
NO_LOGIN_SHELLS = frozenset({"/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false", ""})
# Every way systemd starts a login prompt or a root shell on a console: masked, as `systemctl mask` does.
CONSOLE_UNITS = ("getty@.service", "serial-getty@.service", "console-getty.service", "container-getty@.service",
                 "autovt@.service", "debug-shell.service")
SSH_UNITS = ("ssh.service", "ssh.socket", "sshd.service", "ssh@.service")
SSHD_DROP_IN = "etc/ssh/sshd_config.d/00-civitas-lockdown.conf"
SSHD_LOCKED = ("# civitas lockdown: nobody logs in; changes reach this host only through the voters' proposals.\n"
               "DenyUsers *\nPermitRootLogin no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n")


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    home: str  # inside the host's root
    shell: str
    locked: bool  # its password field starts with ! or *
    expired: bool


@dataclass(frozen=True)
class Facts:
    """What the plan needs to know of a host; host.read_facts reads it."""

    accounts: tuple[Account, ...]
    masked: frozenset[str]  # units already pointing at /dev/null
    ssh_installed: bool
    sshd_drop_in: str | None  # its text, where it exists
    authorized_keys: tuple[str, ...]  # paths inside the root
    site_user: bool
    home: str  # CIVITAS_HOME inside the root
    marked: bool
    operator_token: bool
    unsealed: tuple[str, ...] = field(default=())  # the deployer's paths some other user could still write


@dataclass(frozen=True)
class Step:
    key: str
    says: str  # what it does and why, in a line
    action: tuple  # what host.apply_step carries out
    done: bool


def _logins(facts: Facts) -> list[Account]:
    return [a for a in facts.accounts if a.uid == 0 or (a.uid >= 1000 and a.shell not in NO_LOGIN_SHELLS)]


def plan(facts: Facts) -> list[Step]:
    """Every step of the lock-out, in the order it is taken, each saying whether it is already so."""
    home = facts.home.strip("/")
    steps = [
        Step("site-mark", "mark the site self-governed: the operator's token and commands stop working",
             ("mark", home), facts.marked),
        Step("operator-token", "delete the operator's token, so nobody holds it",
             ("remove", f"{home}/operator-token"), not facts.operator_token),
        Step("site-user", f"add the system user {SITE_USER}, which runs the site and cannot write the deployer's files",
             ("add_site_user", SITE_USER), facts.site_user),
        Step("seal-deployer", "make the deployer's files (live repository, releases, site key, the mark) root's "
             "alone to change", ("seal", home), not facts.unsealed),
    ]
    if facts.ssh_installed:
        steps.append(Step("sshd-config", "refuse every SSH login in sshd's configuration",
                          ("write", SSHD_DROP_IN, SSHD_LOCKED), facts.sshd_drop_in == SSHD_LOCKED))
        steps += [Step(f"mask:{unit}", f"mask {unit}: no SSH server starts", ("mask", unit), unit in facts.masked)
                  for unit in SSH_UNITS]
    steps += [Step(f"keys:{path}", f"remove {path}: no key logs in", ("remove", path), False)
              for path in facts.authorized_keys]
    steps += [Step(f"mask:{unit}", f"mask {unit}: no login prompt or shell on a console", ("mask", unit),
                   unit in facts.masked) for unit in CONSOLE_UNITS]
    for account in _logins(facts):
        if account.uid == 0:  # root keeps its shell and its account: services and cron run as root
            steps.append(Step("lock:root", "lock root's password: no console, su or rescue login",
                              ("lock_password", "root"), account.locked))
        else:
            done = account.locked and account.expired and account.shell in NO_LOGIN_SHELLS
            steps.append(Step(f"retire:{account.name}", f"lock and expire {account.name}'s account and take its shell",
                              ("retire_login", account.name), done))
    return steps
