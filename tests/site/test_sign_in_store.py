"""Where the sign-in store lives (CIVITAS_AUTH_STORE_URL): a file of one's own, or one PostgreSQL database
that every gateway replica shares."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from civitas_gateway.auth import AuthSettings, CurrentVoter, install_auth
from civitas_gateway.auth.signin import SESSION_CACHE_SECONDS
from civitas_gateway.auth.store import AuthStore
from civitas_kernel.sql import create_engine

from civitas.cli import main
from civitas.exit_status import ExitStatus


@pytest.fixture
def make_gateway(clock) -> Iterator[Callable[[AuthSettings], TestClient]]:
    """make(settings) -> one gateway replica: its own process state and engine, the store where the settings say."""
    engines = []

    def make(settings: AuthSettings) -> TestClient:
        engines.append(create_engine(settings.store_url))
        app = FastAPI()
        install_auth(app, settings, engines[-1], clock=clock)

        @app.get("/demo/me")
        def me(voter: CurrentVoter) -> dict:
            return {"voter": voter}

        return TestClient(app, raise_server_exceptions=False)

    yield make
    for engine in engines:
        engine.dispose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_store_is_a_file_in_home_unless_the_environment_names_one(monkeypatch, tmp_path):
    monkeypatch.delenv("CIVITAS_AUTH_STORE_URL", raising=False)
    monkeypatch.setenv("CIVITAS_HOME", str(tmp_path))
    assert AuthSettings().store_url == f"sqlite:///{tmp_path / 'gateway.sqlite'}"  # civitas up, as before

    monkeypatch.setenv("CIVITAS_AUTH_STORE_URL", "postgresql://civitas@db/civitas_gateway")
    assert AuthSettings().store_url == "postgresql://civitas@db/civitas_gateway"


def test_a_voter_signed_in_through_one_gateway_is_known_to_the_other(make_database_url, make_gateway, smtp, inbox,
                                                                      clock, tmp_path):
    url = make_database_url("postgres")
    a, b = (make_gateway(AuthSettings(HOME=tmp_path / name, AUTH_STORE_URL=url, SMTP_HOST="127.0.0.1",
                                      SMTP_PORT=smtp[1], SMTP_TIMEOUT=5)) for name in ("a", "b"))
    with a, b:
        # The load balancer may send each request of one sign-in to a different replica.
        sent = a.post("/api/auth/code", json={"email": "alice@example.org"})
        assert sent.status_code == 202, sent.text
        opened = b.post("/api/auth/session", json={"challenge": sent.json()["challenge"],
                                                   "code": inbox.code_for("alice@example.org")})
        assert opened.status_code == 200, opened.text
        token = opened.json()["token"]

        assert a.get("/demo/me", headers=bearer(token)).json() == {"voter": "alice@example.org"}
        assert b.get("/demo/me", headers=bearer(token)).json() == {"voter": "alice@example.org"}

        assert b.delete("/api/auth/session", headers=bearer(token)).status_code == 204
        assert b.get("/demo/me", headers=bearer(token)).status_code == 401
        clock.advance(SESSION_CACHE_SECONDS)  # as long as the other replica may trust what it saw lately
        assert a.get("/demo/me", headers=bearer(token)).status_code == 401  # signed out everywhere


def test_gateways_starting_together_on_a_new_database_all_come_up(make_database_url):
    url = make_database_url("postgres")
    engines = [create_engine(url) for _ in range(4)]
    start, failures = threading.Barrier(len(engines)), []

    def come_up(engine) -> None:
        start.wait()
        try:
            AuthStore(engine)
        except Exception as error:  # noqa: BLE001 - the test reports whatever a replica died of
            failures.append(error)

    threads = [threading.Thread(target=come_up, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for engine in engines:
        engine.dispose()
    assert failures == []


@pytest.mark.parametrize("url", ["mysql://civitas:hunter2@db/civitas", "postgres://civitas:hunter2@db/civitas",
                                 "hunter2"])
def test_a_store_url_the_gateway_cannot_open_says_what_to_write(url, monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("CIVITAS_WORKERS", raising=False)
    monkeypatch.setenv("CIVITAS_HOME", str(tmp_path))
    monkeypatch.setenv("CIVITAS_AUTH_STORE_URL", url)

    assert main(["serve", "gateway"]) == ExitStatus.ERROR

    said = capsys.readouterr().err
    assert "CIVITAS_AUTH_STORE_URL" in said and "postgresql://USER:PASSWORD@HOST/DB" in said
    assert "Traceback" not in said and "hunter2" not in said
