"""`civitas log`: export, verify and import portable log segments; check the site's own log."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from civitas.cli.lazy import bootstrap
from civitas.cli.locked import refuse_when_locked

app = typer.Typer(help="Export, verify and import the hash-chained event log.", no_args_is_help=True)


def _key(hex_key: str | None) -> bytes | None:
    if hex_key is None:
        return None
    try:
        key = bytes.fromhex(hex_key)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise typer.BadParameter("takes the site's Ed25519 public key as 64 hex digits (see `civitas site`)")
    return key


public_key_option = typer.Option(None, "--key", callback=_key, help="Require this public key (64 hex digits).")


@app.command()
def status(as_json: bool = typer.Option(False, "--json")) -> None:
    """List the streams this site holds and where each stands."""
    from rich.table import Table

    from civitas.progress import render

    rows = [(site, stream, head.seq, head.hash.hex()) for site, stream, head in bootstrap().log.streams()]
    if as_json:
        typer.echo(json.dumps([dict(zip(("site", "stream", "seq", "head_hash"), r)) for r in rows], indent=2))
        return
    if not rows:
        typer.echo("the log holds no events yet")
        return
    table = Table("site", "stream", "events", "head hash")
    for site, stream, seq, head in rows:
        table.add_row(site, stream, str(seq), head[:16] + "…")
    typer.echo(render(table))


@app.command()
def export(
    file: Path = typer.Argument(..., help="Where to write the segment."),
    stream: list[str] = typer.Option(None, "--stream", "-s", help="STREAM or STREAM:FIRST-LAST; repeat. Default: all."),
    site: str = typer.Option(None, help="Export another site's streams held here (default: this site)."),
) -> None:
    """Write a self-verifying segment of the log."""
    from civitas_kernel.segment import StreamSelection, export_segment

    from civitas.progress import progress_bar

    s = bootstrap()
    selections = [StreamSelection.parse(x) for x in stream] if stream else None
    with progress_bar("exporting", None) as advance:
        summary = export_segment(s.log, file, selections, site=site, progress=advance)
    typer.echo(f"exported {summary.events} events of {summary.site} to {file}")
    for name, first, last in summary.ranges:
        typer.echo(f"  {name}: {first}..{last}")


@app.command()
def verify(
    file: Path = typer.Argument(None, help="A segment file. Without it, verify this site's own log."),
    key: str = public_key_option,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Check hashes, chain links, positions and signatures; exit 3 naming the first problem."""
    from civitas_kernel.segment import verify_segment

    from civitas.progress import progress_bar

    if file is None:
        s = bootstrap()
        total = sum(head.seq for _, _, head in s.log.streams())
        with progress_bar("verifying the log", total) as advance:
            report = s.log.verify(progress=advance)
        result = {"verified": True, "events": report.events,
                  "streams": [{"site": r.site, "stream": r.stream, "events": r.events, "checkpoints": r.checkpoints}
                              | ({"from_anchor": r.anchor} if r.anchor else {}) for r in report.streams]}
    else:
        if not file.exists():
            raise ValueError(f"no file {file}")
        with progress_bar(f"verifying {file.name}", None) as advance:
            summary = verify_segment(file, public_key=key, progress=advance)
        result = {"verified": True, "site": summary.site, "public_key": summary.public_key.hex(),
                  "events": summary.events,
                  "ranges": [{"stream": n, "first": f, "last": la} for n, f, la in summary.ranges]}
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        typer.echo(f"verified: {result['events']} events, every hash, link, position and signature intact")
        for r in (r for r in result.get("streams", []) if r.get("from_anchor")):
            before = f"positions 1..{r['from_anchor']} are" if r["from_anchor"] > 1 else "position 1 is"
            typer.echo(f"  {r['site']}/{r['stream']}: verified from its origin's signed anchor at position "
                       f"{r['from_anchor']} ({before} not held here)")


@app.command(name="import")
def import_(
    file: Path = typer.Argument(..., help="A segment file."),
    key: str = public_key_option,
) -> None:
    """Add a segment's events to this site's log: all of it if it verifies, else nothing."""
    refuse_when_locked("importing events by hand")
    from civitas_kernel.segment import import_segment

    from civitas.progress import progress_bar

    if not file.exists():
        raise ValueError(f"no file {file}")
    s = bootstrap()
    with progress_bar(f"importing {file.name}", None) as advance:
        summary, added = import_segment(s.log, file, public_key=key, progress=advance)
    typer.echo(f"imported {added} new events of {summary.site} ({summary.events - added} already held)")
