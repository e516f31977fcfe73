"""Showing the reported voter list and counts, and auditing archives."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import typer

from civitas_kernel.commands import CommandError

from civitas.cli.log_commands import public_key_option
from civitas.exit_status import ExitStatus
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


def audit(
    archive: Path = typer.Argument(..., help="A list, count or decision archive (archive.tar under "
                                             "CIVITAS_HOME/records)."),
    key: str = public_key_option,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> int:
    """Check an archive alone (hashes, signatures, events) and recompile its result; exit 3 if anything differs."""
    from civitas_counter import COMPILERS
    from civitas_deployer import COMPILERS as DECISION_COMPILERS
    from civitas_kernel.audit import audit_archive

    from civitas.progress import progress_bar

    if not archive.exists():
        raise ValueError(f"no file {archive}")
    with progress_bar(f"auditing {archive.name}", None) as advance:
        report = audit_archive(archive, COMPILERS | DECISION_COMPILERS, public_key=key, progress=advance)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    elif report.matches:
        typer.echo(f"{report.kind} {report.id} of {report.site}: recompiled from {report.events} events; "
                   f"the result matches byte for byte (sha256 {report.result_sha256})")
    else:
        typer.echo(f"{report.kind} {report.id} of {report.site}: the recount DIFFERS from the archive: {report.difference}")
    return ExitStatus.SUCCESS if report.matches else ExitStatus.INTEGRITY
