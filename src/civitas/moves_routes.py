"""The routes another site calls when a voter moves here (/moves/v1), on the embedded site: they run the register's
commands under the site's lock (the registry service serves /moves/v1 from civitas_registry.moves_http; the gateway
draws the lineage and moves pages from civitas_gateway.moves_pages)."""

from __future__ import annotations

from fastapi import APIRouter, Body, Query

from civitas_kernel.commands import CommandError
from civitas_kernel.service.problems import Problem


def moves_router(site) -> APIRouter:
    router = APIRouter(tags=["moves"])

    def run(call):
        try:
            with site.lock:
                return call()
        except CommandError as e:
            raise Problem(e.status, str(e), kind="move-refused") from None

    @router.get("/moves/v1/ready")
    def ready(voter: str = Query(..., max_length=320), from_site: str = Query(..., alias="from", max_length=253),
              at: int = Query(...), signature: str = Query(..., max_length=128)):
        """Would this site take `voter` moving in from `from` now (they accepted it here, cooling-off passed)? Told
        only to `from` itself: the ask is signed with its pinned key, for this site and voter, at `at` (µs)."""
        return run(lambda: site.registry.lineage.ready(voter, from_site, at, signature))

    @router.post("/moves/v1/arrive")
    def arrive(payload: dict = Body(...)):
        """A voter's move statement, sealed and signed by the site they leave, with the events it names."""
        return run(lambda: site.registry.lineage.arrive(payload).data)

    return router

