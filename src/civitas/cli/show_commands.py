"""Showing the reported voter list and counts."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer

from civitas_kernel.commands import CommandError

from civitas.cli.lazy import bootstrap


def show_list(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """Print the reported voter list: each registrant's trust level, bar, doubts and attributes."""
    from rich.table import Table

    from civitas.progress import render

    voter_list = bootstrap().reported_list()
    if voter_list is None:
        raise CommandError("no voter list is reported yet; `civitas list` compiles and reports one")
    if as_json:
        typer.echo(json.dumps([asdict(e) for e in voter_list.entries], indent=1, ensure_ascii=False))
        return
    table = Table("voter", "trust_level", "bar", "doubts", "name", "residence")
    for e in voter_list.entries:
        table.add_row(e.voter, str(e.trust_level), e.bar, str(e.doubts), e.name, e.residence)
    typer.echo(render(table))


def show_count(
    poll: str = typer.Argument(..., help="The poll's name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Print the reported count of a poll: the ranking, then every node's counts."""
    from rich.table import Table

    from civitas.progress import render

    count = bootstrap().reported_count()
    if count is None:
        raise CommandError("no count is reported yet; `civitas count` compiles and reports one")
    if poll not in count.polls:
        raise CommandError(f"the reported count has no poll {poll!r}; it has: {', '.join(sorted(count.polls)) or 'none'}")
    result = count.polls[poll]
    if as_json:
        typer.echo(json.dumps({"poll": poll, "turnout": result.turnout,
                               "ranking": [{"rank": r, "candidate": c, "receive": n} for r, c, n in result.ranking],
                               "nodes": [n._asdict() for n in result.nodes]}, indent=1, ensure_ascii=False))
        return
    ranking = Table("rank", "candidate", "receive", title=f"{poll}: turnout {result.turnout}")
    for rank, candidate, received in result.ranking:
        ranking.add_row(str(rank), candidate, str(received))
    nodes = Table("node", "receive", "hold", "carry", "cast", "candidate", "bar", "cycler")
    for n in result.nodes:
        nodes.add_row(n.node, str(n.receive), str(n.hold), str(n.carry), "yes" if n.cast else "no", n.candidate,
                      n.bar, "yes" if n.cycler else "")
    typer.echo(render(ranking))
    typer.echo(render(nodes))
