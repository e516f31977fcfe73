"""The site network page, in the site's layout: the network drawn (the core tree and the peripheral links, each edge
with its lag), the warnings an operator must see, each peer and per (site, stream) where either side stands; and
what the voters' pages that show lists and counts say when the network may leave voters out of them.

Both read `site.network()`: the embedded site's sync state, or the sync service's `/sync/v1/network` (facade.py);
a site with neither takes part in no network.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from civitas_kernel.service.problems import Problem

from civitas_gateway.page_kit import render

router = APIRouter(include_in_schema=False)
log = logging.getLogger("civitas.pages")


def network_of(site, picture: bool = False) -> dict | None:
    """Where the site stands among its peers; None where it takes part in no network."""
    reader = getattr(site, "network", None)
    return reader(picture=picture) if reader else None


def counting_notices(site) -> list[str]:
    """What a voter reading a list or a count must know of the network (a frozen stream, a key that does not match,
    a sub-site or source behind or silent); the reason itself where the network cannot be read now."""
    try:
        view = network_of(site)
    except Problem as e:  # the sync service does not answer: its worker may not be pulling either
        return [f"This site cannot tell now whether its lists and counts hold every voter of the sites it receives "
                f"from: {e.detail}"]
    except (OSError, ValueError) as e:  # a damaged sync.toml or state file: said, never a broken voters' page
        log.warning("the network state cannot be read: %s", e)
        return [f"This site cannot tell now whether its lists and counts hold every voter of the sites it receives "
                f"from: {e}"]
    return list(view.get("counting") or []) if view else []


@router.get("/network", response_class=HTMLResponse)
async def network(request: Request):
    site = request.app.state.site
    view = await asyncio.to_thread(network_of, site, True)
    response = render(request, "network.html", network=view)
    response.headers["Cache-Control"] = "no-store"
    return response
