"""`civitas mail deliver < MESSAGE`: a message into the inbox, handled at once, the answers mailed out (into the
local outbox when no relay is configured); and a delivery cut short by a failure, handled again, applied once."""

from __future__ import annotations

import asyncio
import io
import re
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from civitas.cli import main
from civitas.exit_status import ExitStatus
from civitas.site import bootstrap
from civitas_gateway.mail import MailError
from civitas_gateway.outbox import MaildirMailer


@pytest.fixture
def home(tmp_path, monkeypatch):
    for name in ("CIVITAS_SMTP_HOST", "CIVITAS_MAIL_PORT", "CIVITAS_MAIL_AUTHSERV_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CIVITAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CIVITAS_SITE", "localhost")
    return tmp_path / "home"


def message(to: str, body: str, *, sender: str = "alice@example.org", message_id: str | None = None) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, "commands"
    mail["Message-ID"] = message_id or make_msgid(domain="example.org")
    mail.set_content(body)
    return mail.as_bytes()


def deliver(monkeypatch, capsys, raw: bytes, *args: str) -> str:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw)))
    assert main(["mail", "deliver", *args]) == ExitStatus.SUCCESS
    return capsys.readouterr().out


def outbox(home) -> list[EmailMessage]:
    return [m for _, m in MaildirMailer(home / "outbox").messages()]


def test_deliver_then_answer_the_challenge_in_the_outbox(home, monkeypatch, capsys):
    out = deliver(monkeypatch, capsys, message("register@localhost", "trust bob@example.org\n"))
    assert "challenged: 1 command(s) held for alice@example.org's answer" in out
    assert f"answers are in the outbox, {home / 'outbox'}" in out
    (challenge,) = outbox(home)
    confirm = str(challenge["Reply-To"])

    out = deliver(monkeypatch, capsys, message(confirm, "yes\n"), "--to", confirm)
    assert "applied: 1 held command(s) of alice@example.org ran" in out
    assert "you trust bob@example.org" in outbox(home)[0].get_content()  # newest first
    site = bootstrap()
    assert site.registry.trusted_by("alice@example.org") == ["bob@example.org"]


def test_a_delivery_cut_short_is_handled_again_and_applied_once(home, monkeypatch, capsys):
    from civitas_gateway.mail_interface import Inbox, empty

    # trust, then untrust: run twice without their keys, the second run would append both again
    deliver(monkeypatch, capsys, message("register@localhost", "trust bob@example.org\nuntrust bob@example.org\n"))
    confirm = str(outbox(home)[0]["Reply-To"])
    from civitas.cli.mail_commands import _interface

    interface, settings, _ = _interface("127.0.0.1")
    working = interface.mailer

    class Down:
        def send(self, mail) -> None:
            raise MailError("the relay went away")

    inbox = Inbox(settings.inbox_path)
    inbox.add(message(confirm, "yes\n"), confirm)
    interface.mailer = Down()
    assert asyncio.run(empty(inbox, interface)) == []  # the commands ran; the answer could not be sent
    (left,) = inbox.unfinished()
    trust_head = interface.site.log.head("trust").seq

    interface.mailer = working
    (outcome,) = asyncio.run(empty(inbox, interface, unfinished=True))
    assert outcome.kind == "applied" and inbox.unfinished() == []
    assert interface.site.log.head("trust").seq == trust_head == 2  # their idempotency keys: not a second time
    assert interface.site.registry.trusted_by("alice@example.org") == []
    replies = [m for m in outbox(home) if str(m["Subject"]) == "Re: commands"]
    assert len(replies) == 1 and "you no longer trust bob@example.org" in replies[0].get_content()


def test_deliver_says_when_a_message_came_before(home, monkeypatch, capsys):
    raw = message("civitas@localhost", "version\n")
    assert re.search(r"answered: 1 command", deliver(monkeypatch, capsys, raw))
    assert "duplicate:" in deliver(monkeypatch, capsys, raw) and len(outbox(home)) == 1
