"""The deployments' pages: the live release, every deployment (newest first) with the proposal and the decision that
approved it, each incident (the phase that failed, why, the logs' tail), and where each off-site mirror stands;
and a decision record's page (what it decided, its tally per module, its archive and how to audit it).

Both read the change desk (`desk.deployments()`, `desk.decisions()`): the embedded site's deployer, or the deployer
service's `/deployments` and `/decisions`.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timezone

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from civitas_kernel.commands import NotFoundError

from civitas_gateway.change_desk import changes_of
from civitas_gateway.page_kit import render, templates

router = APIRouter(include_in_schema=False)
SHOWN_DEPLOYMENTS = 500  # the history drawn at most (the deployer sends its newest 200)


def when(us: int | None) -> str:
    """A time in microseconds as a reader reads it (UTC, to the second); an empty string for none."""
    if us is None:
        return ""
    return datetime.fromtimestamp(us / 1_000_000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def record_number(name: str | int | None) -> int | None:
    """A decision record's number from its name ("decision 3", "3" or 3); None for none."""
    if name is None:
        return None
    found = re.search(r"(\d+)\s*$", str(name))
    return int(found.group(1)) if found else None


templates.env.filters["when"] = when
templates.env.filters["record_number"] = record_number


@router.get("/deployments", response_class=HTMLResponse)
async def deployments(request: Request):
    shown = await asyncio.to_thread(changes_of(request.app.state.site).deployments)
    data = shown.data or {}
    history = list(data.get("deployments") or [])
    live = data.get("live") or {}
    return render(request, "deployments.html", live=live, deployments=history[:SHOWN_DEPLOYMENTS],
                  more=max(0, len(history) - SHOWN_DEPLOYMENTS), mirrors=list(data.get("mirrors") or []),
                  incidents=[d for d in history[:SHOWN_DEPLOYMENTS] if d.get("incident")])


def _decision(site, record: int) -> dict:
    found = next((d for d in changes_of(site).decisions().data if d["record"] == record), None)
    if found is None:
        raise NotFoundError(f"there is no decision record {record}; the deployments page links each one")
    return found


@router.get("/decisions/{record}", response_class=HTMLResponse)
async def decision(request: Request, record: int):
    site = request.app.state.site
    found = await asyncio.to_thread(_decision, site, record)
    archive = archive_name(site.settings.SITE, record)
    audit = f"civitas audit {archive} --key {site.public_key().hex()}"
    return render(request, "deployments_decision.html", d=found, archive=archive, audit=audit)


def archive_name(site: str, record: int) -> str:
    return f"{site}-decision-{record:06d}.tar"


@router.get("/decisions/{record}/archive.tar")
async def decision_archive(request: Request, record: int) -> StreamingResponse:
    site = request.app.state.site
    chunks = await asyncio.to_thread(changes_of(site).decision_archive, record)  # a missing one: 404, before any byte
    name = archive_name(site.settings.SITE, record)
    return StreamingResponse(chunks, media_type="application/x-tar",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})
