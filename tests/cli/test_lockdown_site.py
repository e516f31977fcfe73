"""After `civitas lockdown` the operator's powers are gone: the token, the local voter shell, the operator commands."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from civitas.cli import main
from civitas.exit_status import ExitStatus
from civitas_kernel.lockdown import mark_locked_down

from ..site.conftest import OPERATOR_TOKEN, make_site_app  # noqa: F401 - fixtures


@pytest.fixture
def site_home(tmp_path, monkeypatch):
    monkeypatch.setenv("CIVITAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CIVITAS_SITE", "alpha.example.org")
    return tmp_path / "home"


@pytest.mark.parametrize("args", [
    ["poll", "create", "mayor"],
    ["poll", "configure", "mayor", "--title", "Mayor"],
    ["registrar", "trust", "ada@example.org"],
    ["voter", "ada@example.org", "register", "set", "residence", "1 Elm St"],
    ["sync", "detach", "beta.example.org"],
])
def test_the_operators_commands_are_refused_with_where_to_go_instead(site_home, capsys, args):
    assert main(["poll", "create", "before"]) == ExitStatus.SUCCESS  # the operator could, until now
    mark_locked_down(site_home, "alpha.example.org", 1_780_000_000_000_000)
    assert main(args) == ExitStatus.ERROR
    said = capsys.readouterr().err
    assert "governs itself since" in said and "propose the change" in said
    assert main(["poll", "list", "--json"]) == ExitStatus.SUCCESS  # reading stays open
    names = [p["name"] for p in json.loads(capsys.readouterr().out)]
    assert names == ["before"]  # nothing the refused commands meant was written


def test_the_operators_token_stops_working_and_no_new_one_is_made(make_site_app, tmp_path):  # noqa: F811
    site, app = make_site_app()
    headers = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    with TestClient(app) as client:
        assert client.post("/api/polls", json={"name": "first"}, headers=headers).status_code == 201
        mark_locked_down(tmp_path / "home", "localhost", 1_780_000_000_000_000)
        refused = client.post("/api/polls", json={"name": "second"}, headers=headers)
        assert refused.status_code == 403
        assert refused.json()["type"].endswith("locked-down") and "governs itself" in refused.json()["detail"]
        assert [p["name"] for p in client.get("/api/polls").json()] == ["first"]


def test_a_site_locked_with_a_generated_token_makes_no_new_token(tmp_path):
    from civitas_gateway import AuthSettings, operator_token, operator_token_path

    settings = AuthSettings(HOME=tmp_path, SITE="localhost")
    mark_locked_down(tmp_path, "localhost", 1_780_000_000_000_000)
    operator_token(settings)
    assert not operator_token_path(settings).exists()


def test_marking_twice_keeps_the_first_date(tmp_path):
    first = mark_locked_down(tmp_path, "localhost", 1_000_000)
    assert mark_locked_down(tmp_path, "localhost", 2_000_000) == first
