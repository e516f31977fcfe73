"""The live release: the live repository's files at the commit the site runs, as the deployer exported them.

    CIVITAS_HOME/releases/<commit>/tree/        the files (git archive), written once, never modified
    CIVITAS_HOME/releases/<commit>/release.json {"commit", "decision", "made_us"}
    CIVITAS_HOME/releases/live                  a relative symlink to <commit>, switched atomically

Every reader (the gateway's pages, the polls, the registry's rules) asks `LiveRelease.at(home)` when it needs
the release, so a switched symlink takes effect at the next request without a restart. A release's files come
from voters' proposals: `read` follows no symbolic link and never leaves the tree.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["LIVE", "MAX_FILE_BYTES", "RELEASES", "VERIFIED", "LiveRelease", "releases_dir"]

RELEASES = "releases"
LIVE = "live"
VERIFIED = "verified"  # the last release that passed its health window: what must never act on a candidate reads
MAX_FILE_BYTES = 4 * 1024 * 1024  # the largest file a reader takes from a release (a page, a stylesheet, a poll)
COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,199}")  # one path segment a reader may ask for: no dot files
_CACHE_SIZE = 16  # releases kept open (each holds its small read cache)

_cache: dict[tuple[str, str], LiveRelease] = {}
_cache_lock = threading.Lock()


def releases_dir(home: Path) -> Path:
    return Path(home) / RELEASES


@dataclass(eq=False)
class LiveRelease:
    commit: str
    root: Path  # the release's tree
    decision: str | None = None  # the decision record that approved it; None for the first release
    made_us: int | None = None
    _reads: dict[str, bytes | None] = field(default_factory=dict, repr=False)

    @classmethod
    def at(cls, home: Path, *, releases: Path | None = None, link: str = LIVE) -> LiveRelease | None:
        """The live release under `home` (or in the folder `releases`), or None when there is none yet; `link`
        VERIFIED: the last one that passed health (a candidate being checked is `live` but not yet verified).

        One readlink per call: the release is cached by the symlink's target, which names an immutable folder."""
        folder = os.fspath(releases) if releases is not None else os.path.join(home, RELEASES)  # str: Path costs µs
        try:
            target = os.readlink(os.path.join(folder, link))
        except OSError:
            return None
        key = (folder, target)
        found = _cache.get(key)
        if found is not None:
            return found
        release = cls._open(Path(folder), target)
        if release is None:
            return None
        with _cache_lock:
            if len(_cache) >= _CACHE_SIZE:
                _cache.pop(next(iter(_cache)))
            _cache[key] = release
        return release

    @classmethod
    def _open(cls, folder: Path, target: str) -> LiveRelease | None:
        name = target.rstrip("/")
        if not COMMIT.fullmatch(name):  # the deployer writes only <commit>: anything else is not a release
            return None
        base = folder / name
        tree = base / "tree"
        if not tree.is_dir() or tree.is_symlink():
            return None
        try:
            about = json.loads((base / "release.json").read_text())
        except (OSError, ValueError):
            about = {}
        decision = about.get("decision") if isinstance(about, dict) else None
        made = about.get("made_us") if isinstance(about, dict) else None
        return cls(name, tree, decision if isinstance(decision, str) else None, made if isinstance(made, int) else None)

    def read(self, rel: str) -> bytes | None:
        """The file at `rel` (a/b/c.ext) in the release, or None: absent, not a plain file, a symbolic link on the
        way, a segment that is not a plain name (no `..`, no dot files), or larger than MAX_FILE_BYTES."""
        if rel in self._reads:
            return self._reads[rel]
        content = self._read(rel)
        if len(self._reads) < 1024 and (content is None or len(content) <= 256 * 1024):
            self._reads[rel] = content  # the tree never changes, so neither does the answer
        return content

    def _read(self, rel: str) -> bytes | None:
        parts = rel.split("/")
        if not all(PART.fullmatch(p) for p in parts):
            return None
        fds = []
        try:
            fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
            fds.append(fd)
            for part in parts[:-1]:
                fd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                fds.append(fd)
            fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fd)
            fds.append(fd)
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
                return None
            with os.fdopen(os.dup(fd), "rb") as file:
                return file.read(MAX_FILE_BYTES + 1)[:MAX_FILE_BYTES]
        except OSError as error:
            if error.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP, errno.EISDIR, errno.EACCES):
                return None
            raise
        finally:
            for fd in fds:
                os.close(fd)

    def names(self, folder: str) -> list[str]:
        """The plain files directly in `folder` of the release (sorted), e.g. the polls; none through a symlink."""
        parts = folder.strip("/").split("/")
        if not all(PART.fullmatch(p) for p in parts):
            return []
        path = self.root
        for part in parts:
            path = path / part
            if path.is_symlink() or not path.is_dir():
                return []
        return sorted(entry.name for entry in os.scandir(path)
                      if PART.fullmatch(entry.name) and entry.is_file(follow_symlinks=False))
