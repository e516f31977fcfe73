"""Who may do what: the operator's token, and voters who may act only as themselves."""

from __future__ import annotations

import stat

import pytest
from pydantic import ValidationError

from civitas_kernel.commands import ForbiddenError

from civitas_gateway.auth import AuthSettings, operator_token, operator_token_path, require_self

OPERATOR_TOKEN = "op-" + "k3y" * 10


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_operator_route_refuses_anonymous_callers(make_client, expect_problem):
    client = make_client(OPERATOR_TOKEN=OPERATOR_TOKEN)

    refused = client.post("/demo/maintenance")

    expect_problem(refused, 401, "unauthenticated")
    assert refused.headers["www-authenticate"].startswith("Bearer")


def test_the_operator_route_refuses_a_signed_in_voter(make_client, sign_in, expect_problem):
    client = make_client(OPERATOR_TOKEN=OPERATOR_TOKEN)
    token = sign_in(client, "alice@example.org")

    expect_problem(client.post("/demo/maintenance", headers=bearer(token)), 403, "operator-only")


def test_the_operator_route_refuses_a_wrong_token(make_client, expect_problem):
    client = make_client(OPERATOR_TOKEN=OPERATOR_TOKEN)

    expect_problem(client.post("/demo/maintenance", headers=bearer(OPERATOR_TOKEN + "x")), 401, "unauthenticated")


def test_the_operator_route_accepts_the_operator_token(make_client):
    client = make_client(OPERATOR_TOKEN=OPERATOR_TOKEN)

    done = client.post("/demo/maintenance", headers=bearer(OPERATOR_TOKEN))

    assert done.status_code == 200 and done.json() == {"done_by": "operator"}


def test_the_operator_token_is_no_voter_session(make_client, expect_problem):
    client = make_client(OPERATOR_TOKEN=OPERATOR_TOKEN)

    expect_problem(client.get("/demo/me", headers=bearer(OPERATOR_TOKEN)), 401)


def test_without_a_configured_token_one_is_made_once_and_kept_private(tmp_path, make_client):
    settings = AuthSettings(HOME=tmp_path / "home")

    first = operator_token(settings)

    path = operator_token_path(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 43 and operator_token(settings) == first
    client = make_client(HOME=tmp_path / "home")  # the site and this app share HOME
    assert client.post("/demo/maintenance", headers=bearer(first)).status_code == 200


def test_a_token_file_others_can_read_is_refused(tmp_path):
    settings = AuthSettings(HOME=tmp_path)
    operator_token(settings)
    operator_token_path(settings).chmod(0o644)

    with pytest.raises(PermissionError, match="chmod 600"):
        operator_token(settings)


@pytest.mark.parametrize("name, value", [("OPERATOR_TOKEN", "changeme"), ("SMTP_PASSWORD", "ChangeMe"), ("OPERATOR_TOKEN", "short-token")])
def test_placeholder_secrets_are_refused_outside_local_runs(tmp_path, name, value):
    with pytest.raises(ValidationError, match=f"CIVITAS_{name}") as refused:
        AuthSettings(HOME=tmp_path, SITE="civitas.example.org", **{name: value})

    assert value not in str(refused.value)  # the error must not print the secret
    AuthSettings(HOME=tmp_path, SITE="localhost", **{name: value})  # fine on one's own machine


def test_a_password_is_not_sent_in_clear_to_a_remote_relay(tmp_path):
    with pytest.raises(ValidationError, match="SMTP_STARTTLS"):
        AuthSettings(HOME=tmp_path, SITE="civitas.example.org", SMTP_HOST="mail.example.org", SMTP_USER="civitas", SMTP_PASSWORD="a-real-long-password")


def test_a_voter_may_act_only_as_themselves():
    require_self("alice@example.org", "Alice@Example.org")

    with pytest.raises(ForbiddenError, match="only as yourself"):
        require_self("alice@example.org", "bob@example.org")


def test_the_sign_in_store_file_is_private(tmp_path):
    from civitas_kernel.sql.engine import create_engine

    from civitas_gateway.auth.store import AuthStore

    settings = AuthSettings(HOME=tmp_path)
    AuthStore(create_engine(settings.store_url))

    assert stat.S_IMODE((tmp_path / "gateway.sqlite").stat().st_mode) == 0o600
