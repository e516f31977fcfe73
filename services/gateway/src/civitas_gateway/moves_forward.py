"""In service mode, the two calls another site makes of this one when a voter moves here (GET /moves/v1/ready,
POST /moves/v1/arrive) reach the registry service through the site's public address: forwarded as they came, the
registry's answer passed back with its status. Nothing else under /moves/v1 is forwarded (the registry's reads of a
voter's moves and the lineage are the gateway's pages to draw, not another site's to call)."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response

from civitas_kernel.service.calls import ServiceClient, ServiceUnavailable

MOVE_CALL_S = 20.0  # an arrival appends the voter's carried events at the registry: a few seconds at most
ASK_PARAMS = ("voter", "from", "at", "signature")  # what a signed ask holds (civitas_registry.move_asks)


def add_move_forwarding(app: FastAPI, registry: ServiceClient) -> None:
    """The body is bounded by the gateway's request limits (app.py) before it is read here."""

    def forward(method: str, path: str, **request) -> Response:
        try:
            answer = registry.http.request(method, path, timeout=MOVE_CALL_S, **request)
        except httpx.TransportError as error:
            raise ServiceUnavailable(registry.name, type(error).__name__) from None
        passed = {k: v for k, v in answer.headers.items() if k.lower() == "content-type"}
        return Response(answer.content, status_code=answer.status_code, headers=passed)

    @app.get("/moves/v1/ready", tags=["moves"])
    async def ready(request: Request) -> Response:
        """Would this site take the voter moving in from `from` now? (The registry checks the ask's signature.)"""
        params = [(k, v) for k, v in request.query_params.multi_items() if k in ASK_PARAMS]
        return await asyncio.to_thread(forward, "GET", "/moves/v1/ready", params=params)

    @app.post("/moves/v1/arrive", tags=["moves"])
    async def arrive(request: Request) -> Response:
        """A voter's move statement, sealed and signed by the site they leave, with the events it names."""
        body = await request.body()
        return await asyncio.to_thread(forward, "POST", "/moves/v1/arrive", content=body,
                                       headers={"content-type": "application/json"})
