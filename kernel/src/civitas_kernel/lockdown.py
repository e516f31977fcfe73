"""Whether the site governs itself: once `civitas lockdown` has run, the operator's own powers are gone for good.

The mark is a file in CIVITAS_HOME owned by root (the site's process cannot remove it); the operator's token,
the local voter shell and the operator's commands read it and refuse, saying where changes go instead.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from civitas_kernel.commands import ForbiddenError

LOCKDOWN_FILE = "lockdown.json"

__all__ = ["LOCKDOWN_FILE", "LockedDown", "Lockdown", "lockdown_of", "mark_locked_down", "refuse_if_locked"]


class LockedDown(ForbiddenError):
    """The operator tried something only a voted proposal may do on a self-governed site."""

    kind = "locked-down"


@dataclass(frozen=True)
class Lockdown:
    site: str
    since_us: int

    @property
    def since(self) -> str:
        return datetime.fromtimestamp(self.since_us / 1_000_000, UTC).strftime("%Y-%m-%d %H:%M UTC")

    def refusal(self, what: str) -> str:
        return (f"{what} is refused: {self.site} governs itself since {self.since} (civitas lockdown), so the "
                "operator's token and commands no longer work; propose the change and let the voters decide it "
                "(civitas voter VOTER change propose …, or the Changes page)")


def lockdown_of(home: Path) -> Lockdown | None:
    """The site's lockdown, or None while it is run by its operator; a damaged mark still counts as locked."""
    path = Path(home) / LOCKDOWN_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
        return Lockdown(site=str(data["site"]), since_us=int(data["since_us"]))
    except (ValueError, KeyError, TypeError):
        return Lockdown(site="this site", since_us=int(path.stat().st_mtime * 1_000_000))


def mark_locked_down(home: Path, site: str, since_us: int) -> Lockdown:
    """Write the mark once (readable by all, writable by its owner only); marking again keeps the first."""
    held = lockdown_of(home)
    if held is not None:
        return held
    path = Path(home) / LOCKDOWN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"site": site, "since_us": since_us}, out, sort_keys=True)
        out.write("\n")
    os.chmod(path, 0o644)  # whatever the umask: every process of the site must see it
    return Lockdown(site=site, since_us=since_us)


def refuse_if_locked(home: Path, what: str) -> None:
    """Raise LockedDown when the site governs itself."""
    held = lockdown_of(home)
    if held is not None:
        raise LockedDown(held.refusal(what))
