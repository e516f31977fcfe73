"""The HTTP application of the embedded site."""

from __future__ import annotations

from fastapi import FastAPI

from civitas.site import Site


def create_app(site: Site) -> FastAPI:
    app = FastAPI(title="civitas", summary="A self-governing, federated service for communities.")

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "site": site.settings.SITE}

    @app.get("/api/log/streams")
    def streams() -> list[dict]:
        """Every stream the site holds and where it stands."""
        return [
            {"site": s, "stream": stream, "seq": head.seq, "head_hash": head.hash.hex()}
            for s, stream, head in site.log.streams()
        ]

    return app
