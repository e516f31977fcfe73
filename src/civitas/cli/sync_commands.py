"""`civitas sync`: this site's peers in the site network, attaching and detaching them, and where each stands."""

from __future__ import annotations

import json
import time

import typer

from civitas_sync import ROLES  # the package loads the rest on first use

from civitas.cli.lazy import bootstrap
from civitas.cli.locked import refuse_when_locked

app = typer.Typer(help="The site network: peers with pinned keys, pulled over HTTP.", no_args_is_help=True)


def _key(hex_key: str) -> bytes:
    try:
        key = bytes.fromhex(hex_key)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise typer.BadParameter("takes the peer's Ed25519 public key as 64 hex digits (what `civitas site` prints "
                                 "there)")
    return key


def _when(t: float | None) -> str:
    return "never" if t is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


@app.command()
def peers(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """List the peers this site names in CIVITAS_HOME/sync.toml."""
    from rich.table import Table

    from civitas_sync import read_network

    from civitas.progress import render

    s = bootstrap()
    network = read_network(s.settings.HOME, s.settings.SITE)
    rows = [{"site": p.site, "role": p.role, "url": p.url, "key": p.public_key.hex(),
             "direction": "pulled from" if p.pulled else "pulls from this site"} for p in network.peers]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no peers: attach one with `civitas sync attach SITE --role ROLE --url URL --key KEY`")
        return
    table = Table("site", "role", "url", "key", "direction")
    for r in rows:
        table.add_row(r["site"], r["role"], r["url"], r["key"][:16] + "…", r["direction"])
    typer.echo(render(table))


@app.command()
def attach(
    site: str = typer.Argument(..., help="The peer's site name."),
    role: str = typer.Option(..., "--role", help=f"What the peer is to this site: {', '.join(ROLES)}."),
    url: str = typer.Option(..., "--url", help="Where the peer serves its pages, e.g. http://127.0.0.1:8000"),
    key: str = typer.Option(..., "--key", help="The peer's public key (64 hex digits): pinned, never learnt."),
) -> None:
    """Attach a peer and pin its key (also for `civitas audit`). A second super-site, or a super-site below
    this site, is refused."""
    from civitas_sync import Peer, attach_peer, load_state, read_network

    refuse_when_locked("attaching a peer by hand")

    s = bootstrap()
    home = s.settings.HOME
    network = read_network(home, s.settings.SITE)
    subs = {p.site for p in network.with_role("sub")}
    descendants = frozenset(subs) | load_state(home).origins_from(subs)
    attach_peer(home, s.settings.SITE, Peer(site, role, url, _key(key)), descendants)
    typer.echo(f"attached {site} as {role} at {url}; its key is pinned in {home / 'known-sites.toml'}")


@app.command()
def detach(site: str = typer.Argument(..., help="The peer's site name.")) -> None:
    """Stop syncing with a peer. Its events already held stay, and so does its pinned key."""
    from civitas_sync import detach_peer

    refuse_when_locked("detaching a peer by hand")

    s = bootstrap()
    detach_peer(s.settings.HOME, s.settings.SITE, site)
    typer.echo(f"detached {site}; what was received from it stays in the log")


@app.command()
def anchor(
    peer: str = typer.Argument(..., help="The peer this site pulls the stream from."),
    stream: str = typer.Argument(..., help="The stream, e.g. registration."),
    origin: str = typer.Option(None, "--origin", help="Whose stream (default: the peer's own)."),
    add: bool = typer.Option(False, "--add", help="Also declare it on the link to PEER in sync.toml."),
) -> None:
    """Print the anchor declaration of a stream as PEER serves it now: its origin's signed head, checked against the
    key pinned for the origin. Under PEER's [[peer]] in sync.toml (or with --add) a new link starts there instead of
    at position 1; what came before is not held here, and that origin's voters are left out of this site's list."""
    from civitas_sync import anchor_lines, declare_anchor, served_anchor

    s = bootstrap()
    found = served_anchor(s.settings.HOME, s.settings.SITE, peer, stream, origin)
    if add:
        refuse_when_locked("declaring an anchor by hand")
        declare_anchor(s.settings.HOME, s.settings.SITE, peer, found)
    typer.echo(f"# {found.name} at position {found.position}, signed by {found.origin}: "
               + (f"declared on the link to {peer} in {s.settings.HOME / 'sync.toml'}" if add
                  else f"put these lines under the [[peer]] of {peer} in {s.settings.HOME / 'sync.toml'}"))
    typer.echo("\n".join(anchor_lines(found)))


@app.command()
def pull() -> None:
    """Pull from every sub-site and source now, and compare heads with the other peers, whatever the retry
    schedule says."""
    from civitas_sync import SyncWorker

    s = bootstrap()
    failed = 0
    for result in SyncWorker(s.log, s.settings.HOME).run_once(force=True):
        if isinstance(result, str):
            failed += 1
            typer.echo(f"unreachable: {result}")
            continue
        typer.echo(f"{result.peer}: " + ("heads compared" if result.witnessed else f"{result.added} new events"))
        for problem in [*result.errors, *(r for r in result.refused if "does not send this stream" not in r)]:
            typer.echo(f"  {problem}")
    raise typer.Exit(1 if failed else 0)


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """Per peer and stream: this site's position, the peer's head, the lag (of this site behind a peer it pulls
    from, of a peer that pulls from it behind this site), the last contact and errors."""
    from rich.table import Table

    from civitas_sync import load_state, read_network
    from civitas_sync.overview import anchor_warning

    from civitas.progress import render

    s = bootstrap()
    network, state = read_network(s.settings.HOME, s.settings.SITE), load_state(s.settings.HOME)
    rows, frozen = [], {f"{e['origin']}/{e['stream']}": (site, e["seq"]) for site, entry in state.peers.items()
                        for e in entry.evidence}
    for p in network.peers:
        entry = state.of(p.site)
        base = {"peer": p.site, "role": p.role, "last_contact": _when(entry.last_contact),
                "failures": entry.failures, "next_attempt": _when(entry.next_attempt or None),
                "error": entry.last_error, "refused_rules": entry.refused_rules}
        for name, remote in sorted(entry.remote.items()):
            origin, _, stream = name.partition("/")
            here = s.log.head(stream, site=origin).seq
            # a peer this site pulls from is ahead of it; a peer that pulls from this site is behind it
            lag = remote["seq"] - here if p.pulled else here - remote["seq"]
            gap = remote.get("gap") if p.pulled and (remote.get("gap") or 0) > here + 1 else None
            anchored = s.log.anchor(stream, site=origin) if origin != s.settings.SITE else None
            rows.append(base | {"stream": name, "position": here, "head": remote["seq"], "frozen": name in frozen,
                                "lag": max(0, lag), "gap": gap, "error": remote.get("error") or entry.last_error,
                                "anchor": anchored.seq if anchored else None})
        if not entry.remote:
            rows.append(base | {"stream": None, "position": None, "head": None, "lag": None, "frozen": False})
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no peers: attach one with `civitas sync attach SITE --role ROLE --url URL --key KEY`")
        return
    for name, (seen_at, seq) in sorted(frozen.items()):
        typer.echo(f"split view: {name} differs at position {seq} as {seen_at} serves it; both signed checkpoints are "
                   f"kept in {s.settings.HOME / 'sync' / 'state.json'} and the stream is frozen at what was agreed")
    for r in (r for r in rows if r.get("gap")):
        typer.echo(f"gap: {r['peer']} holds {r['stream']} only from position {r['gap']} (pruned there) and this site "
                   f"holds it up to {r['position']}: attach a site that holds {r['position'] + 1}..{r['gap'] - 1} "
                   "(its origin, or one that received them); nothing past the gap is taken")
    for r in (r for r in rows if r.get("anchor") and r["role"] in ("sub", "source")):
        typer.echo(anchor_warning(r["peer"], {"stream": r["stream"], "anchor": r["anchor"]}))
    for p in network.peers:
        for refused in state.of(p.site).refused_rules:
            typer.echo(f"list rules served by {p.site} refused: {refused}")
    table = Table("peer", "role", "stream", "from", "here", "there", "lag", "last contact", "error")
    for r in rows:
        pulls_us = r["stream"] is None and r["role"] in ("super", "peripheral")
        start = "-" if r["stream"] is None else f"anchor {r['anchor']}" if r.get("anchor") else "1"
        table.add_row(r["peer"], r["role"], r["stream"] or ("(pulls from this site)" if pulls_us else "-"), start,
                      *("-" if r[k] is None else str(r[k]) for k in ("position", "head", "lag")),
                      r["last_contact"], r["error"] or "")
    typer.echo(render(table))
