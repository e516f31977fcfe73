"""`civitas change`: change proposals as scripts and the operator see them, and their decisions.

Voters propose, vote and delegate through the voter shell (`civitas voter VOTER change ...`); these commands
read, `decide` records the decision of every proposal whose voting has closed, as the site's clock does, and
`deployments` shows what became of each approved one.
"""

from __future__ import annotations

import json

import typer

from civitas.cli.lazy import bootstrap

app = typer.Typer(help="Change proposals to the live repository: show, list, decide, deployments, maintenance.",
                  no_args_is_help=True)
json_option = typer.Option(False, "--json", help="Print JSON (the reply's data) instead of text.")


def _echo(reply, as_json: bool) -> None:
    typer.echo(json.dumps(reply.data, indent=1, ensure_ascii=False) if as_json else reply.text)


@app.command()
def show(
    proposal: str = typer.Argument(..., help="The proposal's number, as `civitas change list` shows it."),
    voter: str = typer.Option(None, help="Also show how this voter's vote resolved in each module."),
    as_json: bool = json_option,
) -> None:
    """A proposal: its revision and content hash, its tally per module, and its decision once recorded."""
    _echo(bootstrap().change.show(voter, proposal), as_json)


@app.command("list")
def list_proposals(as_json: bool = json_option) -> None:
    """Every proposal with its phase: review, voting, closed, approved, rejected or withdrawn."""
    _echo(bootstrap().change.list_proposals(), as_json)


@app.command()
def decide(
    now: str = typer.Option(None, help="Decide as of this time (ISO 8601, UTC unless it says; default: now). "
                                       "It may not be later than the site's clock."),
    as_json: bool = json_option,
) -> None:
    """Close every proposal whose voting has ended and record its decision (snap, ready, mount, report)."""
    from civitas_deployer.deciding import parse_time

    site = bootstrap()
    _echo(site.decide(parse_time(now) if now else None), as_json)


@app.command()
def deployments(as_json: bool = json_option) -> None:
    """The live release, every deployment newest first (its decision, phase, incident), and the mirrors."""
    _echo(bootstrap().change.deployments(), as_json)


@app.command()
def maintenance(as_json: bool = json_option) -> None:
    """The voted maintenance actions run so far: each request, the decision that approved it, its outcome."""
    runs = bootstrap().maintenance.runs()
    if as_json:
        typer.echo(json.dumps(runs, indent=1, ensure_ascii=False))
        return
    if not runs:
        typer.echo("no maintenance action has run; one runs once a decision approves a new maintenance/runs/NAME.toml")
    for run in runs:
        outcome = run["state"] if run["exit_code"] is None else f"{run['state']}, exit {run['exit_code']}"
        typer.echo(f"decision {run['decision']} (proposal {run['proposal']}): {run['request']} -> {run['action']} "
                   f"[{run['runs']}] {outcome}")
        if run["output"]:
            typer.echo("    " + run["output"].rstrip().replace("\n", "\n    "))
