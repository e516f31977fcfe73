"""A small app with the gateway's auth installed, mailing through a real SMTP server (aiosmtpd), on a clock tests
can move (civitas_gateway.testing)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from civitas_kernel.commands import ConflictError, NotFoundError
from civitas_kernel.errors import ConcurrencyError
from civitas_kernel.sql.engine import create_engine

from civitas_gateway.auth import AuthSettings, CurrentVoter, Operator, OptionalVoter, install_auth
from civitas_gateway.testing import Clock


class Count(BaseModel):
    count: int


def demo_app(settings: AuthSettings, engine, clock: Clock, **options) -> FastAPI:
    """An app as the site would build it: install_auth plus routes that need a voter or the operator."""
    app = FastAPI()
    install_auth(app, settings, engine, clock=clock, **options)

    @app.get("/demo/me")
    def me(voter: CurrentVoter) -> dict:
        return {"voter": voter}

    @app.get("/demo/public")
    def public(voter: OptionalVoter) -> dict:
        return {"voter": voter}

    @app.post("/demo/maintenance")
    def maintenance(operator: Operator) -> dict:
        return {"done_by": operator}

    @app.post("/demo/count")
    def count(body: Count) -> dict:
        return {"count": body.count}

    @app.get("/demo/boom")
    def boom() -> None:
        raise RuntimeError("secret-internal-detail at /srv/civitas/db password=hunter2")

    @app.get("/demo/conflict")
    def conflict() -> None:
        raise ConflictError("you voted in this poll already; unvote first")

    @app.get("/demo/missing")
    def missing() -> None:
        raise NotFoundError("there is no poll 'x'")

    @app.get("/demo/stale")
    def stale() -> None:
        raise ConcurrencyError("localhost", "vote", 3, 4)

    return app


@pytest.fixture
def make_client(smtp, clock, tmp_path) -> Iterator[Callable[..., TestClient]]:
    """make_client(**settings) -> a TestClient of the demo app mailing through the real SMTP server."""
    _, port = smtp
    clients: list[TestClient] = []

    def make(mailer=None, **overrides) -> TestClient:
        values = {"HOME": tmp_path / "home", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_TIMEOUT": 5} | overrides
        settings = AuthSettings(**values)
        engine = create_engine(f"sqlite:///{tmp_path / f'gateway{len(clients)}.sqlite'}")
        options = {"mailer": mailer} if mailer else {}
        client = TestClient(demo_app(settings, engine, clock, **options), raise_server_exceptions=False)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()
