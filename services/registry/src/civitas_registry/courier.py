"""Carrying a voter's move statement to the site they move to, over that site's /moves/v1 routes."""

from __future__ import annotations

import httpx

from civitas_kernel.commands import CommandError


class SiteSilent(CommandError):
    """The site a voter moves to did not answer: nothing was written."""

    status = 502


class MoveCourier:
    """HTTP to another site's move routes; every answer but 200 becomes a CommandError saying why."""

    def __init__(self, timeout_s: float = 10.0, transport: httpx.BaseTransport | None = None) -> None:
        self.timeout_s, self.transport = timeout_s, transport

    def _call(self, site: str, method: str, url: str, **kw) -> dict:
        try:
            with httpx.Client(timeout=self.timeout_s, transport=self.transport) as client:
                response = client.request(method, url, **kw)
        except httpx.HTTPError as e:
            raise SiteSilent(f"{site} does not answer at {url.split('/moves/')[0]} ({type(e).__name__}); "
                             "nothing was written: try again once it is up") from None
        if response.status_code >= 500:
            raise SiteSilent(f"{site} answered {response.status_code}; nothing was written: try again later")
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200:
            reason = body.get("detail") if isinstance(body, dict) else None
            raise CommandError(f"{site} refuses the move: {reason or response.status_code}")
        return body if isinstance(body, dict) else {}

    def ready(self, site: str, base_url: str, ask: dict) -> dict:
        """Would `site` take this voter from us now? Asked (signed: move_asks.signed_ask) before anything is written."""
        return self._call(site, "GET", base_url.rstrip("/") + "/moves/v1/ready", params=ask)

    def deliver(self, site: str, base_url: str, payload: dict) -> dict:
        return self._call(site, "POST", base_url.rstrip("/") + "/moves/v1/arrive", json=payload)
