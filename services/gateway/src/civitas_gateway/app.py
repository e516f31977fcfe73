"""The HTTP application of the site: the voters' API, sign-in, web pages, health."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from civitas_kernel import telemetry
from civitas_kernel.service.limits import BodyLimits, RequestLimits
from civitas_kernel.smoke_pass import SmokePass
from civitas_kernel.sql import create_engine

from civitas_gateway import account_pages, api, change_api, change_hunks, change_pages, page_kit, pages, records_pages
from civitas_gateway import supervised, voter_pages
from civitas_gateway import deployments_pages, drafts_api, drafts_forms, drafts_pages, maintenance_pages
from civitas_gateway import moves_pages, network_pages
from civitas_gateway.auth import AuthSettings, install_auth
from civitas_gateway.auth.refusals import RefusedAttempts, appender_of
from civitas_gateway.error_pages import install_error_pages
from civitas_gateway.mail import Mailer
from civitas_gateway.notices import install_notices
from civitas_gateway.release_checks import release_checks
from civitas_gateway.release_pages import ReleaseHeader, ReleasePages
from civitas_gateway.security import SecurityHeaders
from civitas_gateway.site import Site


# 64 KiB on every route: the largest a voter sends (a shell line, a value) is a few KiB; but a change's patch, a draft's
# post (up to 100,000 bytes, more as a form encodes it) and a query's SQL (up to 100,000 characters, said by the
# sandbox past it) are larger
BODY_LIMITS = BodyLimits(routes=change_api.BODY_LIMITS | {"/api/query": 256 * 1024, "/api/drafts/": 512 * 1024,
                                                          "/drafts/": 1024 * 1024})


def _refusals_of(site: Site):
    """Who records the refused operator token: the deployer service, for a gateway in front of the services
    (RemoteSite's reports); else the site's own log, where each kind was last written read back first."""
    reports = getattr(site, "refusal_reports", None)
    if reports is not None:
        return reports
    attempts = RefusedAttempts(appender_of(site.log))
    if attempts.append is not None:
        attempts.resume(site.log)
    return attempts


def create_app(site: Site, auth_settings: AuthSettings | None = None, *, mailer: Mailer | None = None) -> FastAPI:
    auth_settings = auth_settings or AuthSettings()
    app = FastAPI(
        title="civitas",
        summary="A self-governing, federated service for communities.",
        description="Voters register, vouch for their neighbours and vote; every input is an event in a "
        "hash-chained, signed log. Sign in with POST /api/auth/code and POST /api/auth/session.",
        version="0.1.0",
        telemetry=telemetry.web_telemetry(),
        docs_url=None,  # served by pages.docs, which runs no inline script
        redoc_url=None,
    )
    app.state.site = site
    releases = getattr(site.settings, "releases_path", None)
    app.state.release_pages = pages_of_release = ReleasePages(releases, page_kit.templates.env, release_checks())
    app.include_router(api.router)
    app.include_router(change_api.router)
    app.include_router(drafts_api.router)
    app.add_middleware(RequestLimits, limits=BODY_LIMITS)  # inside the rate limits: a limited client is not read
    # The deployer's smoke requests pass the address limit uncounted: the embedded site's key, else CIVITAS_KEY_FILE's.
    smoke = SmokePass.of_site_key(site.key) if hasattr(site, "key") else SmokePass.of_settings(site.settings)
    supervisor_pass = supervised.read_pass(auth_settings.SUPERVISOR_PASS_FILE)  # host mode: its health checks too
    exempt = [check for check in (smoke.exempts if smoke else None, supervisor_pass and supervised.exempts) if check]
    install_auth(app, auth_settings, create_engine(auth_settings.store_url), mailer=mailer,
                 exempt=(lambda scope: any(check(scope) for check in exempt)) if exempt else None)
    app.state.civitas_auth.refusals = refusals = _refusals_of(site)  # the old operator token, recorded
    install_error_pages(app)  # outside the limits, so their problems become pages too, and inside the headers
    app.add_middleware(SecurityHeaders)  # outside the rate limits, so their answers carry the headers too
    if auth_settings.FORWARDED_ALLOW_IPS:  # outside the rate limits, so they count the client the proxy names
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=auth_settings.FORWARDED_ALLOW_IPS)
    if supervisor_pass:  # outside the rate limits too: the supervisor's proxy names each visitor
        app.add_middleware(supervised.SupervisorProxy, supervisor_pass=supervisor_pass)
    app.include_router(pages.router)
    app.include_router(voter_pages.router)
    app.include_router(records_pages.router)
    app.include_router(account_pages.router)
    app.include_router(change_pages.router)
    app.include_router(network_pages.router)
    app.include_router(moves_pages.router)
    app.include_router(change_hunks.router)
    app.include_router(deployments_pages.router)
    app.include_router(maintenance_pages.router)
    app.include_router(drafts_pages.router)
    app.include_router(drafts_forms.router)
    install_notices(app, site)
    page_kit.mount_static(app, pages_of_release)
    app.add_middleware(ReleaseHeader, pages=pages_of_release)  # outermost: every answer names its release
    api.add_vote_routes(app.router)  # ahead of all the others, FastAPI's own included

    inner_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: FastAPI):
        async with inner_lifespan(a) as state:
            try:
                yield state
            finally:
                await asyncio.to_thread(refusals.stop)  # the attempts counted since the last event, written

    app.router.lifespan_context = lifespan

    @app.get("/health", tags=["site"])
    def health() -> dict:
        """The process is alive."""
        return {"status": "ok", "site": site.settings.SITE}

    @app.get("/ready", tags=["site"])
    def ready() -> dict:
        """The site can answer: its log opens and its state is caught up."""
        with site.lock:
            site.registry.catch_up()
            site.polls.catch_up()
        site.draft_reads.catch_up()
        return {"status": "ready", "site": site.settings.SITE}

    @app.get("/api/log/streams", tags=["site"])
    def streams() -> list[dict]:
        """Every stream the site holds and where it stands."""
        return [
            {"site": s, "stream": stream, "seq": head.seq, "head_hash": head.hash.hex()}
            for s, stream, head in site.log.streams()
        ]

    return app
