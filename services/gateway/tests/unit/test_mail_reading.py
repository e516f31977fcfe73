"""Reading a mail for commands: its sender, recipient, text in any charset, command lines, the relay's verdict; and
which commands only read."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from civitas_gateway.mail_interface.reading import Unreadable, command_lines, read, spam_verdict, text_of
from civitas_gateway.mail_interface.routing import (
    CHANGE, CONFIRM, META, POLL, REGISTER, UNKNOWN, destination, reads_only,
)


def mail(body: str = "hello", charset: str = "utf-8", **headers) -> bytes:
    message = EmailMessage()
    message["From"] = headers.pop("From", "Alice <Alice@Example.org>")
    message["To"] = headers.pop("To", "register@localhost")
    message["Message-ID"] = headers.pop("Message_ID", "<1@example.org>")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body, charset=charset)
    return message.as_bytes()


def test_sender_recipient_and_identity():
    incoming = read(mail(Reply_To="mallory@evil.example"), domain="localhost")
    assert (incoming.sender, incoming.recipient, incoming.reply_to) == ("alice@example.org", "register@localhost",
                                                                        "mallory@evil.example")
    assert incoming.key == read(mail(), domain="localhost").key  # the same Message-ID and recipient
    assert incoming.key != read(mail(), domain="localhost", recipient="test-poll@localhost").key
    assert read(b"Delivered-To: test-poll@localhost\r\n" + mail(), domain="localhost").recipient == "test-poll@localhost"


@pytest.mark.parametrize("headers", [{"Auto_Submitted": "auto-replied"}, {"Precedence": "bulk"},
                                     {"From": "MAILER-DAEMON@example.org"}, {"List_Id": "<x.example.org>"},
                                     {"From": "not an address"}])
def test_automatic_mail_is_known(headers):
    assert read(mail(**headers), domain="localhost").automatic


def test_a_body_in_another_charset_is_read_as_written():
    raw = mail("set name José Müller\n", charset="iso-8859-1")
    assert b"Jos\xe9" in raw or b"=E9" in raw  # really Latin-1 on the wire
    assert command_lines(text_of(read(raw, domain="localhost").message)) == [(1, "set name José Müller")]


def test_html_only_mail_has_no_text_to_run():
    message = EmailMessage()
    message["From"], message["To"] = "alice@example.org", "register@localhost"
    message.set_content("<p>trust bob@example.org</p>", subtype="html")
    with pytest.raises(Unreadable, match="no plain-text part .only text/html"):
        text_of(read(message.as_bytes(), domain="localhost").message)


def test_quoted_lines_blank_lines_and_the_signature_are_no_commands():
    text = "trust bob@example.org\n\n> an old line\n  vote carol@example.org  \n# a note\n-- \nAlice\nunset name\n"
    assert command_lines(text) == [(1, "trust bob@example.org"), (4, "vote carol@example.org")]


def test_only_the_trusted_relays_own_authentication_results_count():
    other = "evil.example; spf=pass smtp.mailfrom=alice@example.org; dkim=pass header.d=example.org"
    real = "mx.localhost; spf=fail smtp.mailfrom=alice@example.org; dkim=none"
    forged = "mx.localhost; spf=pass smtp.mailfrom=alice@example.org"  # written by the sender, so below the relay's
    headers = "".join(f"Authentication-Results: {h}\r\n" for h in (other, real, forged)).encode()
    incoming = read(headers + mail(), domain="localhost", authserv_id="mx.localhost")
    assert incoming.results == {"spf": ("fail", "example.org"), "dkim": ("none", "")}
    assert "neither SPF nor DKIM passed for example.org at mx.localhost (dkim=none, spf=fail (example.org))" == \
        spam_verdict(incoming, "mx.localhost")
    assert spam_verdict(incoming, None) is None  # no check configured


def test_a_pass_counts_only_for_the_senders_own_domain():
    def verdict(results: str, sender: str = "alice@example.org"):
        raw = f"Authentication-Results: mx.localhost; {results}\r\n".encode() + mail(From=sender)
        return spam_verdict(read(raw, domain="localhost", authserv_id="mx.localhost"), "mx.localhost")

    assert verdict("dkim=pass header.d=example.org") is None
    assert verdict("spf=pass smtp.mailfrom=bounce@mail.example.org", sender="alice@mail.example.org") is None
    assert verdict("dkim=pass header.d=evil.example") is not None
    assert "gave no Authentication-Results" in spam_verdict(read(mail(), domain="localhost", authserv_id="mx"), "mx")


def test_addresses_name_their_services():
    def where(recipient):
        return destination(recipient, domain="localhost", own="civitas@localhost", is_poll=lambda n: n == "test-poll")

    assert where("register@localhost").kind == REGISTER
    assert (where("Test-Poll@localhost").kind, where("test-poll@localhost").service) == (POLL, "test-poll")
    assert where("civitas@localhost").kind == META and where("change@localhost").kind == CHANGE
    assert where("confirm+" + "ab" * 16 + "@localhost") .kind == CONFIRM
    for unknown in ("nopoll@localhost", "register@elsewhere.org", "confirm+short@localhost", "@localhost"):
        assert where(unknown).kind == UNKNOWN


@pytest.mark.parametrize("kind, line", [(REGISTER, "hello"), (REGISTER, "help"), (REGISTER, "trust"),
                                        (REGISTER, "doubt --alter bob@example.org"), (REGISTER, "set --help"),
                                        (POLL, "vote"), (POLL, "vote --alter bob@example.org"), (POLL, "hello")])
def test_commands_that_only_read(kind, line):
    assert reads_only(kind, line.split())


@pytest.mark.parametrize("kind, line", [(REGISTER, "trust bob@example.org"), (REGISTER, "set name Alice --help"),
                                        (REGISTER, "hello there"), (REGISTER, "untrust bob@example.org"),
                                        (REGISTER, "vote"), (POLL, "vote bob@example.org"), (POLL, "unvote"),
                                        (POLL, "trust"), (REGISTER, "doubt --alter")])
def test_commands_that_may_change_something_are_held(kind, line):
    assert not reads_only(kind, line.split())
