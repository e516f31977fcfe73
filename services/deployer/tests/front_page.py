"""A front page served from the live release, naming it in Civitas-Release as the gateway does, which a change to
site/front.md can break."""

from __future__ import annotations

import time

from starlette.applications import Starlette
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route

import os

HANG_S = 3.0


def front_page(home):
    """GET / renders site/front.md of the live release: 500 when it says BROKEN, a hang when it says HANG."""
    releases = home / "releases"

    def page(request):
        try:
            release = os.readlink(releases / "live")
        except FileNotFoundError:
            release = "none"
        front = releases / release / "tree" / "site" / "front.md"
        text = front.read_text() if front.exists() else "Welcome (as civitas ships it)"
        named = {"Civitas-Release": release}
        if "BROKEN" in text:
            return PlainTextResponse("Traceback: the front page's template failed", status_code=500, headers=named)
        if "HANG" in text:
            time.sleep(HANG_S)
        return HTMLResponse(f"<p>{text}</p>", headers=named)

    return Starlette(routes=[Route("/", page)])
