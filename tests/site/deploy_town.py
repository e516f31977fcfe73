"""What the deployments pages' tests share: changes approved by the voters of an embedded site, then deployed for
real by its engine through the site's own gateway, served over HTTP."""

from __future__ import annotations

from pathlib import Path

from .change_town import VOTERS, make_patch


def approve(site, clock, tmp_path: Path, files: dict[str, str], title: str) -> str:
    """A change alice proposes on the live HEAD, the others vote yes, and its decision is recorded; its id."""
    name = f"change-{len(list(tmp_path.glob('clone-change-*')))}"
    patch = make_patch(site.live_repo.path, tmp_path, files, name=name)
    with site.lock:
        proposal = site.change.propose("alice@example.org", patch, title).data["proposal"]
    clock.hours(48)
    with site.lock:
        for voter in VOTERS[1:]:
            site.change.run(f"{voter}@example.org", ["vote", proposal, "yes"])
    clock.hours(169)
    (decided,) = site.decide().data
    assert decided["approved"], decided
    return proposal


def bare(path: Path, refusing: str | None = None) -> Path:
    """A bare repository to mirror to; with `refusing`, its pre-receive hook says that and refuses every push."""
    import subprocess

    subprocess.run(["git", "init", "--quiet", "--bare", str(path)], check=True)
    if refusing:
        hook = path / "hooks" / "pre-receive"
        hook.write_text(f"#!/bin/sh\necho '{refusing}' >&2\nexit 1\n")
        hook.chmod(0o755)
    return path


BROKEN_HOME = {"site/templates/home.html": "{% extends 'base.html' %}{% block main %}{% if %}{% endblock %}"}
