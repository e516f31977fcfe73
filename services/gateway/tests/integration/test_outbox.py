"""The local outbox: with no relay on a loopback site, sign-in mail lands in a Maildir and its code on the console."""

from __future__ import annotations

import mailbox

import pytest
from fastapi.testclient import TestClient

from civitas_kernel.sql.engine import create_engine

from civitas_gateway.auth import AuthSettings
from civitas_gateway.outbox import LocalOutbox, is_loopback, local_outbox, relay_configured

from ..conftest import demo_app


def test_with_no_relay_on_loopback_mail_goes_to_the_outbox(tmp_path, clock, monkeypatch):
    monkeypatch.delenv("CIVITAS_SMTP_HOST", raising=False)
    settings = AuthSettings(HOME=tmp_path)
    said: list[str] = []
    outbox = local_outbox(settings, "127.0.0.1", console=said.append)
    assert outbox is not None and outbox.path == tmp_path / "outbox"
    app = demo_app(settings, create_engine(f"sqlite:///{tmp_path / 'gateway.sqlite'}"), clock, mailer=outbox.mailer)
    app.state.civitas_auth.sign_in.announce = outbox.announce_code
    with TestClient(app) as client:
        sent = client.post("/api/auth/code", json={"email": "alice@example.org"})
        assert sent.status_code == 202, sent.text

    box = mailbox.Maildir(tmp_path / "outbox", create=False)
    (key,) = box.keys()
    ((_, mail),) = outbox.mailer.messages()
    assert mail["To"] == "alice@example.org" and "sign-in code" in mail["Subject"]
    code = next(line.strip() for line in mail.get_content().splitlines() if line.strip().isdigit())
    (line,) = said
    assert f"sign-in code for alice@example.org: {code}" in line and "within 10 minutes: until 2027-01-15 08:10:00 UTC" in line
    assert outbox.mailer.message(key)["Message-ID"] == mail["Message-ID"]


def test_the_outbox_does_not_exist_once_a_relay_is_set_or_the_site_is_public(tmp_path, monkeypatch):
    monkeypatch.delenv("CIVITAS_SMTP_HOST", raising=False)
    assert not relay_configured(AuthSettings(HOME=tmp_path))
    assert local_outbox(AuthSettings(HOME=tmp_path), "0.0.0.0") is None  # reachable from elsewhere
    assert local_outbox(AuthSettings(HOME=tmp_path), "192.168.1.5") is None
    assert local_outbox(AuthSettings(HOME=tmp_path), "::1") is not None
    assert local_outbox(AuthSettings(HOME=tmp_path), "localhost") is not None
    monkeypatch.setenv("CIVITAS_SMTP_HOST", "mail.example.org")
    assert relay_configured(AuthSettings(HOME=tmp_path))
    assert local_outbox(AuthSettings(HOME=tmp_path), "127.0.0.1") is None
    assert local_outbox(AuthSettings(HOME=tmp_path, SMTP_HOST="localhost"), "127.0.0.1") is None  # named, even as the default


@pytest.mark.parametrize("host", ["127.0.0.1", "127.5.5.5", "::1", "localhost"])
def test_loopback_addresses(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.1", "example.org", ""])
def test_addresses_beyond_loopback(host):
    assert not is_loopback(host)


def test_a_message_key_from_outside_the_folder_finds_nothing(tmp_path):
    outbox = LocalOutbox(tmp_path / "outbox")
    assert outbox.mailer.message("../../etc/passwd") is None
    assert outbox.mailer.messages() == []
