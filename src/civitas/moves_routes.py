"""The routes another site calls when a voter moves here (/moves/v1), and the pages of a site's lineage and a
voter's moves, on the embedded site: they run the register's commands under the site's lock (the registry service
serves /moves/v1 from civitas_registry.moves_http)."""

from __future__ import annotations

import html
from datetime import datetime, timezone

from fastapi import APIRouter, Body, Query
from fastapi.responses import HTMLResponse

from civitas_kernel.commands import CommandError
from civitas_kernel.service.problems import Problem

def moves_router(site) -> APIRouter:
    router = APIRouter(tags=["moves"])

    def run(call):
        try:
            with site.lock:
                return call()
        except CommandError as e:
            raise Problem(e.status, str(e), kind="move-refused") from None

    @router.get("/moves/v1/ready")
    def ready(voter: str = Query(..., max_length=320), from_site: str = Query(..., alias="from", max_length=253),
              at: int = Query(...), signature: str = Query(..., max_length=128)):
        """Would this site take `voter` moving in from `from` now (they accepted it here, cooling-off passed)? Told
        only to `from` itself: the ask is signed with its pinned key, for this site and voter, at `at` (µs)."""
        return run(lambda: site.registry.lineage.ready(voter, from_site, at, signature))

    @router.post("/moves/v1/arrive")
    def arrive(payload: dict = Body(...)):
        """A voter's move statement, sealed and signed by the site they leave, with the events it names."""
        return run(lambda: site.registry.lineage.arrive(payload).data)

    @router.get("/site/lineage", response_class=HTMLResponse)
    def lineage_page():
        """The site's parent and the cut it was forked at, if it is a fork."""
        info = run(site.registry.lineage.lineage)
        if info["parent"] is None:
            body = f"<p>{_e(info['site'])} is not a fork: it started from nothing.</p>"
        else:
            rows = "".join(f"<tr><td>{_e(c['stream'])}</td><td>{c['seq']}</td><td><code>{c['head_hash']}</code></td>"
                           "</tr>" for c in info["cut"])
            body = (f"<p>{_e(info['site'])} was forked from <strong>{_e(info['parent'])}</strong> (key "
                    f"<code>{info['parent_key']}</code>), at this cut, each head signed by the parent:</p>"
                    f"<table><tr><th>stream</th><th>position</th><th>head</th></tr>{rows}</table>"
                    f"<p>Live repository cloned at <code>{_e(info['live_commit'] or 'none')}</code>. "
                    f"{info['confirmed']} inherited voters chose this site so far.</p>")
        return _page(f"Lineage of {info['site']}", body)

    @router.get("/voters/{voter}/moves", response_class=HTMLResponse)
    def moves_page(voter: str):
        """A voter's moves to and from this site, and the trust they brought as evidence."""
        moves = run(lambda: site.registry.lineage.moves_of(voter))
        evidence = run(lambda: site.registry.lineage.evidence_of(voter))
        items = "".join(f"<li>{'moved to' if m['direction'] == 'out' else 'moved in from'} {_e(m['site'])} on "
                        f"{_when(m['at_us'])}</li>" for m in moves) or "<li>never moved</li>"
        shown = "".join(f"<li>{e['trust_edges_received']} trust edges given at {_e(e['from'])}: evidence here, "
                        "counted there</li>" for e in evidence)
        gone = next((m["site"] for m in reversed(moves) if m["direction"] == "out"), None) \
            if moves and moves[-1]["direction"] == "out" else None
        note = f"<p>{_e(voter)} now votes on <strong>{_e(gone)}</strong>.</p>" if gone else ""
        return _page(f"Moves of {voter}", f"{note}<ul>{items}</ul><ul>{shown}</ul>")

    return router


def _e(text) -> str:
    return html.escape(str(text))


def _when(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang=en><meta charset=utf-8><title>{_e(title)}</title>"
            f"<body><main><h1>{_e(title)}</h1>{body}</main></body></html>")
