"""`civitas serve gateway`: the embedded site's HTTP application over RemoteSite."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from civitas.distributed.calls import ServiceUnavailable
from civitas.distributed.facade import RemoteSite
from civitas.distributed.settings import ServiceSettings
from civitas.gateway.app import create_app
from civitas.gateway.auth import AuthSettings
from civitas.gateway.mail import Mailer


def create_gateway_app(settings: ServiceSettings, auth: AuthSettings | None = None, *,
                       mailer: Mailer | None = None, site: RemoteSite | None = None) -> FastAPI:
    site = site or RemoteSite(settings)
    app = create_app(site, auth or AuthSettings(), mailer=mailer)
    # The embedded /ready folds local state; here readiness is whether the services behind us are.
    app.router.routes = [r for r in app.router.routes if not (isinstance(r, APIRoute) and r.path == "/ready")]

    @app.get("/ready", tags=["site"])
    async def ready() -> JSONResponse:
        """Ready when registry and polls are ready (commands work) and the counter answers (results)."""
        def check() -> dict[str, str]:
            states = {}
            for name, path in (("registry", "/ready"), ("polls", "/ready"), ("counter", "/health")):
                try:
                    site.clients[name].get(path)
                    states[name] = "ok"
                except ServiceUnavailable as error:
                    states[name] = error.detail
            return states

        states = await asyncio.to_thread(check)
        ok = all(v == "ok" for v in states.values())
        return JSONResponse({"status": "ready" if ok else "not ready", "site": settings.SITE, **states},
                            status_code=200 if ok else 503)

    router_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: FastAPI):
        async with router_lifespan(a) as state:
            try:
                yield state
            finally:
                await site.aclose()

    app.router.lifespan_context = lifespan
    return app
