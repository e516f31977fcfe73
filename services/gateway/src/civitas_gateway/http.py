"""The gateway as a service of its own: the embedded site's HTTP application (app.py) over RemoteSite (facade.py),
whose every method is a call to the service that owns it. It keeps no state but its sign-in store, so several
run side by side."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from civitas_kernel.service.calls import ServiceUnavailable
from civitas_kernel.service.serve import ServiceEntry
from civitas_kernel.service.settings import ServiceSettings

from civitas_gateway.app import create_app
from civitas_gateway.auth import AuthSettings
from civitas_gateway.facade import RemoteSite
from civitas_gateway.mail_interface import MailInterfaceSettings, install_mail_interface
from civitas_gateway.mail import Mailer
from civitas_gateway.moves_forward import add_move_forwarding


def create_gateway_app(settings: ServiceSettings, auth: AuthSettings | None = None, *,
                       mailer: Mailer | None = None, site: RemoteSite | None = None) -> FastAPI:
    site = site or RemoteSite(settings)
    app = create_app(site, auth or AuthSettings(), mailer=mailer)
    mail = MailInterfaceSettings(HOME=settings.HOME, SITE=settings.SITE)
    if mail.MAIL_PORT is not None:  # voters' commands by mail; workers side by side share the port and the inbox
        install_mail_interface(app, site, mail, mail.MAIL_PORT)
    add_move_forwarding(app, site.clients["registry"])  # other sites reach the registry at the site's address
    # The embedded /ready folds local state; here readiness is whether the services behind us are.
    app.router.routes = [r for r in app.router.routes if not (isinstance(r, APIRoute) and r.path == "/ready")]

    @app.get("/ready", tags=["site"])
    async def ready() -> JSONResponse:
        """Ready when every owner the site runs is ready (registry, polls, and the deployer and drafts where
        deployed: commands work) and the counter answers (results)."""
        checks = [(name, "/ready") for name in ("registry", "polls", "deployer", "drafts") if name in site.deployed]

        def check() -> dict[str, str]:
            states = {}
            for name, path in (*checks, ("counter", "/health")):
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


def check_auth_settings() -> None:
    AuthSettings()  # a mistake in the sign-in settings is said once, not by every worker


SERVICE = ServiceEntry("gateway", 8000, ServiceSettings, create_gateway_app, stateless=True, preflight=check_auth_settings)
