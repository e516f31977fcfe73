"""A site's lineage (/site/lineage: its parent and the cut it was forked at) and a voter's moves to and from it
(/voters/ADDRESS/moves), in the site's layout. Both read the register's lineage through site.registry: the embedded
register's commands, or the registry service's /moves/v1/lineage and /moves/v1/voters/ADDRESS (facade.py)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from civitas_kernel.addresses import normalise_address
from civitas_kernel.commands import NotFoundError

from civitas_gateway.page_kit import render

router = APIRouter(include_in_schema=False)


def _read(site, query):
    with site.lock:  # the embedded register folds its streams first; the remote one folds its own
        return query(site.registry)


@router.get("/site/lineage", response_class=HTMLResponse)
async def lineage_page(request: Request):
    site = request.app.state.site
    info = await asyncio.to_thread(_read, site, lambda registry: registry.site_lineage())
    return render(request, "lineage.html", lineage=info)


@router.get("/voters/{address}/moves", response_class=HTMLResponse)
async def moves_page(request: Request, address: str):
    voter = normalise_address(address)  # a mistake is a CommandError: a 400 page saying how to write one
    site = request.app.state.site
    record = await asyncio.to_thread(_read, site, lambda registry: registry.moves_record(voter))
    if not record["known"]:
        raise NotFoundError(f"{voter} is not registered on this site and never moved to or from it: check the address")
    moves = [{**m, "when": _when(m["at_us"])} for m in record["moves"]]
    return render(request, "moves.html", record=record, moves=moves)


def _when(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
