"""A front page served from the live release as the gateway serves it, which a change to site/front.md can break."""

from __future__ import annotations

import time

from starlette.applications import Starlette
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route

from civitas_deployer import ReleaseHeader

HANG_S = 3.0


def front_page(home):
    """GET / renders site/front.md of the live release: 500 when it says BROKEN, a hang when it says HANG."""
    releases = home / "releases"

    def page(request):
        try:
            text = (releases / "live" / "tree" / "site" / "front.md").read_text()
        except FileNotFoundError:
            text = "Welcome (as civitas ships it)"
        if "BROKEN" in text:
            return PlainTextResponse("Traceback: the front page's template failed", status_code=500)
        if "HANG" in text:
            time.sleep(HANG_S)
        return HTMLResponse(f"<p>{text}</p>")

    return ReleaseHeader(Starlette(routes=[Route("/", page)]), home)
