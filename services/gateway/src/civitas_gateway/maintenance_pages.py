"""The maintenance page (the actions the verified release defines, the runs asked for, done and cut short) and the
lock-out page (whether the site governs itself, what that covers, and the operator's token refused since).

Both read the embedded site (its maintenance, change commands, releases and log); a gateway in front of the
services asks the deployer service, which runs the maintenance and owns the lockout stream there (its
GET /maintenance, and the stream's events).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from civitas_kernel.lockdown import lockdown_of

from civitas_kernel.lockdown_refusals import refused_attempts
from civitas_gateway.page_kit import render

router = APIRouter(include_in_schema=False)
REFUSING_COMMANDS = ("civitas poll create", "civitas poll configure", "civitas registrar", "civitas voter (the local "
                     "voter shell)", "civitas log import", "civitas sync attach", "civitas sync detach")


NOTHING = {"actions": [], "release": "", "proposed": [], "runs": [], "offered": []}


def _maintenance(site) -> dict:
    remote = getattr(site, "maintenance_view", None)  # in front of the services: the deployer's
    if remote is not None:
        return NOTHING | (remote() or {})
    held = getattr(site, "maintenance", None)  # the embedded site's
    if held is None:
        return NOTHING
    return held.view(frozenset(getattr(site, "offered_builtins", ())))  # what the deployer service answers too


@router.get("/maintenance", response_class=HTMLResponse)
async def maintenance(request: Request):
    shown = await asyncio.to_thread(_maintenance, request.app.state.site)
    return render(request, "maintenance.html", **shown)


@router.get("/lockout", response_class=HTMLResponse)
async def lockout(request: Request):
    site = request.app.state.site
    home = getattr(site.settings, "HOME", None)
    locked = lockdown_of(home) if home is not None else None
    attempts = await asyncio.to_thread(refused_attempts, site.log)
    locked = {"site": locked.site, "since": locked.since} if locked else None
    return render(request, "lockout.html", locked=locked, attempts=attempts, commands=REFUSING_COMMANDS,
                  supervised=bool(getattr(site.settings, "SUPERVISED", False)))
