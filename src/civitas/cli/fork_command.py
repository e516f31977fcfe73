"""`civitas fork`: make this empty site a fork of a parent site, from the log the parent publishes."""

from __future__ import annotations

import json

import typer


def fork(
    parent: str = typer.Argument(..., help="The parent site's name, e.g. town.example.org."),
    url: str = typer.Argument(..., help="Where the parent serves its sync pages, e.g. https://town.example.org."),
    parent_key: str = typer.Option(..., "--parent-key", help="The parent's Ed25519 public key, 64 hex digits "
                                   "(what `civitas site` prints there); its heads must be signed with it."),
    live_repo: str = typer.Option(None, "--live-repo", help="The parent's published live repository (a git URL or "
                                  "path), cloned at its live commit."),
    live_commit: str = typer.Option(None, "--live-commit", help="The commit the clone must stand at."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Fork this site (CIVITAS_SITE, an empty CIVITAS_HOME) from PARENT at its current signed heads."""
    from civitas.forking import fork_site
    from civitas.settings import Settings

    try:
        key = bytes.fromhex(parent_key)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise typer.BadParameter("takes the parent's public key as 64 hex digits", param_hint="--parent-key")
    lineage = fork_site(Settings(), parent, url, key, live_source=live_repo, live_commit=live_commit)
    if as_json:
        typer.echo(json.dumps(lineage, indent=2))
        return
    typer.echo(f"{lineage['site']} is a fork of {parent}, at this cut (each head signed by {parent}):")
    for c in lineage["cut"]:
        typer.echo(f"  {c['stream']:>12} {c['seq']:>8}  {c['head_hash']}")
    typer.echo(f"live repository at {lineage['live_commit'] or '(none cloned: made fresh at first start)'}; "
               "inherited voters count here once they sign in and run `register confirm`")


def lineage(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text.")) -> None:
    """Show this site's parent and cut, if it is a fork, and check them against the parent's events held here."""
    from civitas_kernel.commands import CommandError

    from civitas.cli.lazy import bootstrap

    site = bootstrap()
    info, problems = site.registry.lineage.lineage(), site.registry.lineage.check()
    if as_json:
        typer.echo(json.dumps({**info, "problems": problems}, indent=2))
    elif info["parent"] is None:
        typer.echo(f"{info['site']} is not a fork")
    else:
        typer.echo(f"{info['site']} is a fork of {info['parent']} (key {info['parent_key']}); "
                   f"{info['confirmed']} inherited voters confirmed")
        for c in info["cut"]:
            typer.echo(f"  {c['stream']:>12} {c['seq']:>8}  {c['head_hash']}")
    if problems:
        raise CommandError("the fork's claims do not hold: " + "; ".join(problems))
