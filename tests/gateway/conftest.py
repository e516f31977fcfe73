"""A small app with the gateway's auth installed, a real SMTP server (aiosmtpd) and a clock tests can move."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from civitas_kernel.commands import ConflictError, NotFoundError
from civitas_kernel.errors import ConcurrencyError
from civitas_kernel.sql.engine import create_engine

from civitas.gateway.auth import AuthSettings, CurrentVoter, Operator, OptionalVoter, install_auth
from civitas.testing import ServerThread

START = 1_800_000_000.0  # a fixed "now" (2027), seconds since the epoch


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


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


@pytest.fixture
def sign_in(inbox) -> Callable[..., str]:
    """sign_in(client, address, totp=None) -> session token, by the whole flow a voter goes through."""

    def run(client: TestClient, address: str, totp: str | None = None) -> str:
        sent = client.post("/api/auth/code", json={"email": address})
        assert sent.status_code == 202, sent.text
        body = {"challenge": sent.json()["challenge"], "code": inbox.code_for(address.lower())}
        if totp:
            body["totp"] = totp
        opened = client.post("/api/auth/session", json=body)
        assert opened.status_code == 200, opened.text
        return opened.json()["token"]

    return run


@pytest.fixture
def expect_problem() -> Callable[..., dict]:
    """expect_problem(response, status, kind=None) -> the problem body, after checking it is one."""

    def check(response, status: int, kind: str | None = None) -> dict:
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == status and problem["title"]
        if kind:
            assert problem["type"] == f"urn:civitas:problem:{kind}", problem
        return problem

    return check


OPERATOR_TOKEN = "operator-token-for-tests-0123456789"


@pytest.fixture
def make_site_app(smtp, tmp_path):
    """make_site_app() -> (site, app): the whole site's application on a real log, mailing through the real SMTP server."""
    from civitas.gateway.app import create_app
    from civitas.settings import Settings
    from civitas.site import Site

    def make():
        home = tmp_path / "home"
        site = Site(Settings(HOME=home, SITE="localhost", COMPILE_EVERY_MINUTES=0))
        auth = AuthSettings(HOME=home, SITE="localhost", SMTP_HOST="127.0.0.1", SMTP_PORT=smtp[1], SMTP_TIMEOUT=30,
                            OPERATOR_TOKEN=OPERATOR_TOKEN)
        return site, create_app(site, auth)

    return make


@pytest.fixture
def operator_headers() -> dict:
    return {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


@pytest.fixture
def served(make_site_app):
    """The site served over real HTTP on a free local port: (site, base URL)."""
    site, app = make_site_app()
    with ServerThread().serving(app) as base:
        yield site, base
