"""The routes another site calls when a voter moves to this one (/moves/v1), on the registry service, and the reads
of a voter's moves and the site's lineage for the gateway. The embedded site serves the same from
src/civitas/moves_routes.py under its lock; here they run on the owner (a move's ask and arrival as its commands)."""

from __future__ import annotations

from fastapi import Body, FastAPI, Query

from civitas_kernel.service.owner import Owner

from civitas_registry.commands import RegistryCommands


def add_move_routes(app: FastAPI, owner: Owner[RegistryCommands]) -> None:
    @app.get("/moves/v1/ready")
    async def ready(voter: str = Query(..., max_length=320), from_site: str = Query(..., alias="from", max_length=253),
                    at: int = Query(...), signature: str = Query(..., max_length=128)) -> dict:
        """Would this site take `voter` from `from` now? Told only to `from` (a signed ask: move_asks)."""
        return await owner.read(lambda r: r.lineage.ready(voter, from_site, at, signature))

    @app.post("/moves/v1/arrive")
    async def arrive(payload: dict = Body(...)) -> dict:
        """A voter's move statement, sealed and signed by the site they leave, with the events it names."""
        return (await owner.run(lambda r: r.lineage.arrive(payload), alone=True)).data

    @app.get("/moves/v1/voters/{voter}")
    async def moves_of(voter: str) -> dict:
        """A voter's moves to and from this site, and the trust they brought as evidence."""
        return await owner.read(lambda r: r.moves_record(voter))

    @app.get("/moves/v1/lineage")
    async def lineage() -> dict:
        """The site's parent and the cut it was forked at, if it is a fork."""
        return await owner.read(lambda r: r.site_lineage())
