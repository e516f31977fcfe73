"""The live release's polls (polls/NAME.toml) brought into the poll stream, whose one writer this service is:
when a new release is live its files become poll events attributed to it (actor release:<commit>); a release whose
poll files cannot be read writes nothing and says why in the log (the gateway refuses to serve it, so the
deployer's smoke request fails and the release is rolled back)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from civitas_kernel.commands import Reply
from civitas_kernel.live_release import MAX_FILE_BYTES, VERIFIED, LiveRelease
from civitas_kernel.periodic import Periodic

from civitas_polls.domain.poll_files import POLLS_FOLDER, PollFileError, parse_poll_file, poll_name_of
from civitas_polls.domain.polls import PollConfig

log = logging.getLogger("civitas.polls.release")
MAX_POLL_FILES = 1000
CHECK_EVERY_S = 1.0  # how often the live release is looked at (one readlink)


def read_poll_files(release: LiveRelease) -> dict[str, PollConfig]:
    """Every poll the release's polls/ folder configures; PollFileError naming the first file that cannot be read."""
    files = [f for f in release.names(POLLS_FOLDER) if poll_name_of(f) is not None]
    if len(files) > MAX_POLL_FILES:
        raise PollFileError(f"polls/ holds {len(files)} polls; a site keeps at most {MAX_POLL_FILES}")
    polls = {}
    for file in files:
        data = release.read(f"{POLLS_FOLDER}/{file}")
        if data is None:
            raise PollFileError(f"polls/{file} cannot be read: a plain file of at most {MAX_FILE_BYTES} bytes")
        name = poll_name_of(file)
        polls[name] = parse_poll_file(name, data.decode("utf-8", errors="replace"))
    return polls


def poll_file_problems(release: LiveRelease) -> list[str]:
    """What in the release's poll files cannot be used, as sentences (the gateway's check of a release)."""
    try:
        read_poll_files(release)
    except PollFileError as error:
        return [str(error)]
    return []


class ReleasePolls:
    """Looks at the live release and, once per new commit, hands its polls to `apply(commit, polls)` — a write run
    the way the service runs its commands (the site's group writer, the owner's). Idempotent: the plan compares the
    files with the stream, so looking again, a replay or a restart writes nothing new."""

    def __init__(self, releases: Path | None, apply: Callable[[str, dict[str, PollConfig]], Reply]) -> None:
        self.releases, self.apply = releases, apply
        self.done: str | None = None  # the commit last brought in (or refused)

    def due(self) -> LiveRelease | None:
        release = LiveRelease.at(Path("."), releases=self.releases, link=VERIFIED) if self.releases is not None else None
        return release if release is not None and release.commit != self.done else None

    def bring_in(self, release: LiveRelease) -> Reply | None:
        try:
            polls = read_poll_files(release)
        except PollFileError as error:
            log.error("the live release %s's polls are refused, nothing written: %s", release.commit, error)
            self.done = release.commit
            return None
        reply = self.apply(release.commit, polls)
        self.done = release.commit
        if reply.data.get("events"):
            log.info("polls of the live release %s: %s", release.commit, reply.text)
        return reply

    def check(self) -> Reply | None:
        release = self.due()
        return self.bring_in(release) if release is not None else None


class ReleasePollsWatcher(Periodic):
    """ReleasePolls.check every CHECK_EVERY_S in a thread of its own (the embedded site)."""

    def __init__(self, polls: ReleasePolls, every_s: float = CHECK_EVERY_S) -> None:
        super().__init__(polls.check, lambda: every_s, name="civitas-release-polls", every_s=every_s)
