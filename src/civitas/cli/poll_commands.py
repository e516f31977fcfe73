"""`civitas poll`: operators create and configure polls; `civitas sim`: simulated voter commands."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import typer

from civitas.cli.lazy import bootstrap
from civitas.cli.locked import refuse_when_locked

app = typer.Typer(help="Create, configure and list polls (operator).", no_args_is_help=True)


def _time_us(text: str | None) -> int:
    if not text:
        return 0
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date and time; write e.g. 2026-12-01T18:00+01:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1_000_000)


title_option = typer.Option(None, help="The poll's title, as voters see it.")
district_option = typer.Option(None, help="Neighbourhood-code prefix of the voters who may vote (default: everyone).")
min_trust_option = typer.Option(None, "--min-trust", min=0, help="Minimum trust level to vote (default 0).")
opens_option = typer.Option(None, help="When voting opens (ISO 8601; default: now).")
closes_option = typer.Option(None, help="When voting closes (ISO 8601; default: never).")


@app.command()
def create(
    name: str = typer.Argument(..., help="The poll's service name, e.g. test-poll or mayor."),
    title: str = title_option,
    kind: str = typer.Option("electoral", help="electoral (candidates are people) or normative (proposals, by URI)."),
    district: str = district_option,
    min_trust: int = min_trust_option,
    opens: str = opens_option,
    closes: str = closes_option,
) -> None:
    """Create a poll."""
    refuse_when_locked("creating a poll from the command line")
    reply = bootstrap().polls.create(
        name, title=title or name, kind=kind, district=district or "", min_trust=min_trust or 0,
        opens_at_us=_time_us(opens), closes_at_us=_time_us(closes),
    )
    typer.echo(reply.text)


@app.command()
def configure(
    name: str = typer.Argument(..., help="The poll's service name."),
    title: str = title_option,
    district: str = district_option,
    min_trust: int = min_trust_option,
    opens: str = opens_option,
    closes: str = closes_option,
) -> None:
    """Change a poll's configuration; options not given stay as they are."""
    refuse_when_locked("configuring a poll from the command line")
    changes = {"title": title, "district": district, "min_trust": min_trust,
               "opens_at_us": _time_us(opens) if opens else None, "closes_at_us": _time_us(closes) if closes else None}
    typer.echo(bootstrap().polls.configure(name, **{k: v for k, v in changes.items() if v is not None}).text)


@app.command("list")
def list_polls(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text.")) -> None:
    """List the polls."""
    reply = bootstrap().polls.list_polls()
    typer.echo(json.dumps(reply.data, indent=2) if as_json else reply.text)


def sim(
    groups: str = typer.Argument(..., help="Group letters, e.g. ab."),
    voters: str = typer.Argument(..., help="Voter numbers in each group, e.g. 1-3."),
) -> None:
    """Print simulated voter commands (pipe them into `civitas voter`)."""
    from civitas_polls.domain.sim import simulate

    for line in simulate(groups, voters):
        typer.echo(line)
