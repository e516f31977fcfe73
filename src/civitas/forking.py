"""`civitas fork`: a new site made from a parent's published log at a cut. Its first event names the parent, the
parent's key and the parent's signed heads of the cut; the parent's events up to the cut stay the parent's (pulled
and verified by sync, never re-sealed); the live repository is cloned at the parent's live commit. Anything
refused leaves nothing behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from civitas_kernel.commands import CommandError
from civitas_kernel.events import NewEvent
from civitas_kernel.signers import KNOWN_SITES, read_known_sites, write_known_sites
from civitas_schema.v1 import lineage_pb2

from civitas.settings import Settings

GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0"}


class ForkError(CommandError):
    """A fork refused: the parent's log does not verify, its heads are not its key's, the site is not empty."""


def _git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, capture_output=True, text=True,
                          timeout=300)
    if done.returncode != 0:
        raise ForkError(f"git {args[0]} failed: {done.stderr.strip()[:300]}")
    return done.stdout.strip()


def _clone_live(source: str, commit: str | None, into: Path) -> tuple[Path, str]:
    """A bare clone of the parent's live repository beside `into`, at `commit` (its main, unless named)."""
    into.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".fork-live-", dir=into.parent))
    repo = scratch / "live.git"
    _git("clone", "--bare", "--quiet", "--no-hardlinks", source, str(repo))
    live = _git("--git-dir", str(repo), "rev-parse", "--verify", "refs/heads/main^{commit}")
    if commit is not None and live != commit:
        shutil.rmtree(scratch)
        raise ForkError(f"the parent's live repository at {source} stands at {live}, not {commit}")
    return repo, live


def fork_site(settings: Settings, parent: str, url: str, parent_key: bytes, *, live_source: str | None = None,
              live_commit: str | None = None) -> dict:
    """Make this (empty) site a fork of `parent` served at `url`; returns what was recorded."""
    from civitas.site import Site
    from civitas_sync import ForkRefused, take_cut

    me, home = settings.SITE, settings.HOME
    if me == parent:
        raise ForkError(f"a fork is a site of its own: give it a name other than {parent} (CIVITAS_SITE)")
    pinned = read_known_sites(home / KNOWN_SITES).get(parent)
    if pinned is not None and pinned != parent_key:
        raise ForkError(f"{parent} is pinned here with another key ({pinned.hex()}); nothing was written")
    if settings.live_repo_path.exists() and live_source:
        raise ForkError(f"{settings.live_repo_path} exists: a fork clones its live repository into an empty place")
    log_file = home / "log.sqlite"
    made = [p for p in (log_file, settings.key_path) if not p.exists()]
    if settings.log_url == f"sqlite:///{log_file}" and log_file.exists():
        raise ForkError(f"{home} holds a site already; a fork starts in an empty CIVITAS_HOME")
    home.mkdir(parents=True, exist_ok=True)
    scratch = None
    site = Site(settings)
    try:
        if site.log.streams():
            raise ForkError(f"{home} holds a site already; a fork starts in an empty CIVITAS_HOME")
        repo, commit = _clone_live(live_source, live_commit, settings.live_repo_path) if live_source else (None, "")
        scratch = repo.parent if repo else None
        try:
            heads = take_cut(site.log, parent, url, parent_key)
        except ForkRefused as e:
            raise ForkError(f"fork refused: {e}; nothing was written") from None
        site.log.append("registration", [NewEvent.of(lineage_pb2.SiteForked(
            parent=parent, parent_key=parent_key, heads=heads, live_commit=commit), "operator")], expected_seq=0)
        if repo is not None:
            repo.rename(settings.live_repo_path)
        write_known_sites(home / KNOWN_SITES, {**read_known_sites(home / KNOWN_SITES), parent: parent_key})
    except BaseException:
        _dispose(site)
        for path in made:
            for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                p.unlink(missing_ok=True)
        raise
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    lineage = site.registry.lineage.lineage()
    _dispose(site)
    return lineage


def _dispose(site) -> None:
    engine = getattr(site.__dict__.get("log"), "engine", None)
    if engine is not None:
        engine.dispose()
