"""Voters' commands by mail, in a real SMTP exchange: a client sends to the inbound server, the challenge goes out
through the site's outgoing path to a real SMTP server, the test answers it, the command lands in the log and the
reply arrives. And the bad input: forged senders, late or second answers, Reply-To, too many commands, other
charsets, HTML only, redelivery, unknown services, spam checks, size."""

from __future__ import annotations

import re
import smtplib
import time
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from civitas_kernel.testing.ports import free_port
from civitas_kernel.testing.serving import ServerThread

from civitas_gateway import AuthSettings, create_app
from civitas_gateway.mail_interface import MailInterfaceSettings, install_mail_interface

from .conftest import OPERATOR_TOKEN

ALICE, BOB = "alice@example.org", "bob@example.org"


def text(message: EmailMessage) -> str:
    return message.get_content().replace("\r\n", "\n")


class Post:
    """The site with its mail interface: send mail to it over SMTP, read what it mails back from the real inbox."""

    def __init__(self, site, inbox, port: int) -> None:
        self.site, self.inbox, self.port = site, inbox, port

    def send(self, to: str, body: str = "", *, sender: str = ALICE, charset: str = "utf-8", message_id: str | None = None,
             **headers) -> str:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = sender, to, headers.pop("Subject", "commands")
        message["Message-ID"] = message_id or make_msgid(domain="example.org")
        message.set_content(body, charset=charset)
        for name, value in headers.items():  # after set_content, which clears Content-* headers
            message[name.replace("_", "-")] = value
        self.send_message(message)
        return message["Message-ID"]

    def send_message(self, message: EmailMessage) -> None:
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as smtp:
            smtp.send_message(message)

    def mails_to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.inbox.messages if str(m["To"]) == address]

    def next_to(self, address: str, seen: int, timeout: float = 20.0) -> EmailMessage:
        """The first mail to `address` after the `seen` it had already."""
        deadline = time.monotonic() + timeout
        while len(self.mails_to(address)) <= seen:
            assert time.monotonic() < deadline, f"no new mail to {address}; got {[m['Subject'] for m in self.inbox.messages]}"
            time.sleep(0.02)
        return self.mails_to(address)[seen]

    def ask(self, to: str, body: str = "", **kwargs) -> EmailMessage:
        """Send a mail as ALICE (or `sender`) and wait for the site's answer to that sender."""
        sender = kwargs.get("sender", ALICE)
        seen = len(self.mails_to(sender))
        self.send(to, body, **kwargs)
        return self.next_to(sender, seen)

    def answer(self, challenge: EmailMessage, *, sender: str = ALICE) -> EmailMessage:
        """Reply to a challenge, as a mail program does: to its Reply-To, quoting it."""
        quoted = "\n".join("> " + line for line in text(challenge).splitlines())
        return self.ask(str(challenge["Reply-To"]), f"Yes, I sent it.\n\n{quoted}\n", sender=sender,
                        Subject="Re: " + str(challenge["Subject"]), In_Reply_To=str(challenge["Message-ID"]))

    def heads(self) -> dict[str, int]:
        return {stream: head.seq for _, stream, head in self.site.log.streams()}

    def trusts(self, voter: str) -> list[str]:
        with self.site.lock:
            self.site.registry.catch_up()
            return self.site.registry.trusted_by(voter)


@pytest.fixture
def make_post(smtp, tmp_path):
    from civitas.settings import Settings
    from civitas.site import Site

    served = []

    def make(**mail_settings) -> Post:
        home = tmp_path / "home"
        site = Site(Settings(HOME=home, SITE="localhost", COMPILE_EVERY_MINUTES=0))
        auth = AuthSettings(HOME=home, SITE="localhost", SMTP_HOST="127.0.0.1", SMTP_PORT=smtp[1], SMTP_TIMEOUT=30,
                            OPERATOR_TOKEN=OPERATOR_TOKEN)
        app = create_app(site, auth)
        port = free_port()
        install_mail_interface(app, site, MailInterfaceSettings(HOME=home, SITE="localhost", **mail_settings), port)
        with site.lock:
            site.polls.create("test-poll", title="Test poll")
        context = ServerThread().serving(app)
        context.__enter__()
        served.append(context)
        return Post(site, smtp[0], port)

    yield make
    for context in served:
        context.__exit__(None, None, None)


@pytest.fixture
def post(make_post) -> Post:
    return make_post()


def test_a_command_by_mail_runs_after_the_sender_answers_the_challenge(post):
    before = post.heads()
    challenge = post.ask("register@localhost", f"trust {BOB}\n")
    assert challenge["Subject"] == "Did you send this? commands"
    assert re.fullmatch(r"confirm\+[0-9a-f]{32}@localhost", str(challenge["Reply-To"]))
    assert f"    trust {BOB}" in text(challenge) and "within 60 minutes" in text(challenge)
    assert post.heads() == before and post.trusts(ALICE) == []  # held: nothing in the log yet

    reply = post.answer(challenge)

    assert post.trusts(ALICE) == [BOB]  # the command landed in the log
    assert reply["Subject"] == "Re: commands" and reply["Content-Language"] == "en"
    assert f"> trust {BOB}\nyou trust {BOB}" in text(reply)  # what the voter shell answers
    assert reply.get_content_charset() == "utf-8" and reply["Auto-Submitted"] == "auto-replied"


def test_commands_that_only_read_are_answered_at_once(post):
    reply = post.ask("register@localhost", "hello\ntrust\n")
    assert reply["Reply-To"] is None and reply["Subject"] == "Re: commands"
    assert f"> hello\nhello {ALICE}, this is the voter register of localhost" in text(reply)
    assert "> trust\n" in text(reply)
    poll = post.ask("test-poll@localhost", "vote\n")
    assert "you vote for nobody" in text(poll)


def test_read_answers_come_with_the_challenge_and_the_rest_waits(post):
    challenge = post.ask("test-poll@localhost", f"hello\nvote {BOB}\n")
    said = text(challenge)
    assert "1 command(s) that change something" in said and f"    vote {BOB}" in said
    assert "> hello\nhello alice@example.org, this is Test poll (test-poll)" in said
    reply = post.answer(challenge)
    assert f"you now vote for {BOB}" in text(reply)
    with post.site.lock:
        assert post.site.polls.votes("test-poll") == {ALICE: BOB}


def test_a_forged_sender_gets_nothing_applied(post):
    # mallory writes as alice: the challenge goes to alice's own mailbox, which mallory cannot read
    before = post.heads()
    seen_mallory = len(post.mails_to("mallory@evil.example"))
    challenge = post.ask("register@localhost", "trust mallory@evil.example\n", Reply_To="mallory@evil.example")
    assert str(challenge["To"]) == ALICE and len(post.mails_to("mallory@evil.example")) == seen_mallory
    assert "they go only to the sender's address, alice@example.org" in text(challenge)
    guess = post.ask("confirm+" + "0" * 32 + "@localhost", "yes", sender="mallory@evil.example")
    assert "answers no challenge of this site" in text(guess)
    stolen = post.ask(str(challenge["Reply-To"]), "yes", sender="mallory@evil.example")  # even with the address
    assert "was sent to another address" in text(stolen)
    assert post.heads() == before and post.trusts(ALICE) == []


def test_a_challenge_answered_twice_applies_once(post):
    challenge = post.ask("register@localhost", f"trust {BOB}\n")
    post.answer(challenge)
    after = post.heads()
    again = post.answer(challenge)  # another answer, another Message-ID
    assert "was answered already" in text(again) and "Nothing ran." in text(again)
    assert post.heads() == after


def test_a_challenge_answered_late_applies_nothing(make_post):
    post = make_post(MAIL_CHALLENGE_MINUTES=0.01)  # 0.6 s
    challenge = post.ask("register@localhost", f"trust {BOB}\n")
    time.sleep(1.0)
    late = post.answer(challenge)
    assert "expired" in text(late) and "send the commands again" in text(late)
    assert post.trusts(ALICE) == []


def test_a_message_delivered_twice_is_applied_and_answered_once(post):
    message_id = make_msgid(domain="example.org")
    seen = len(post.mails_to(ALICE))
    post.send("register@localhost", "hello\n", message_id=message_id)
    post.next_to(ALICE, seen)
    post.send("register@localhost", "hello\n", message_id=message_id)  # a relay's retry after a lost 250
    challenge = post.ask("register@localhost", f"trust {BOB}\n")  # something after it, to wait on
    time.sleep(0.3)
    assert [m["Subject"] for m in post.mails_to(ALICE)[seen:]] == ["Re: commands", "Did you send this? commands"]

    answer_id = make_msgid(domain="example.org")
    reply_seen = len(post.mails_to(ALICE))
    for _ in range(2):  # the answer, delivered twice
        post.send(str(challenge["Reply-To"]), "yes", message_id=answer_id)
    post.next_to(ALICE, reply_seen)
    time.sleep(0.5)
    assert len(post.mails_to(ALICE)) == reply_seen + 1 and post.trusts(ALICE) == [BOB]


def test_ten_thousand_commands_run_none_and_the_reply_says_the_limit(post):
    before = post.heads()
    reply = post.ask("register@localhost", f"trust {BOB}\n" * 10_000)
    assert "it has 10,000 command lines, and one message may hold at most 100" in text(reply)
    assert reply["Reply-To"] is None and post.heads() == before


def test_a_body_in_another_charset_is_applied_as_written_and_answered_in_utf8(post):
    challenge = post.ask("register@localhost", "set name José Müller\n", charset="iso-8859-1",
                         Content_Language="de")
    assert "answers in English only" in text(challenge)
    reply = post.answer(challenge)
    with post.site.lock:
        post.site.registry.catch_up()
        assert post.site.registry.attributes(ALICE)["name"] == "José Müller"
    assert reply.get_content_charset() == "utf-8" and "José Müller" in text(reply)


def test_html_only_mail_runs_nothing_and_says_why(post):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = ALICE, "register@localhost", "html"
    message.set_content(f"<p>trust {BOB}</p>", subtype="html")
    seen = len(post.mails_to(ALICE))
    post.send_message(message)
    reply = post.next_to(ALICE, seen)
    assert "it has no plain-text part (only text/html)" in text(reply) and post.trusts(ALICE) == []


def test_unknown_services_are_said_and_the_change_service_answers(post):
    assert "nopoll@localhost is no service of this site" in text(post.ask("nopoll@localhost", "hello"))
    listed = text(post.ask("change@localhost", "list"))  # only reads: answered at once, no challenge
    assert "> list" in listed and "challenge" not in listed.lower()


def test_the_sites_own_address_answers_hello_help_and_version(post):
    said = text(post.ask("civitas@localhost", "hello\nhelp\nversion\nvote\n"))
    assert f"> hello\nhello {ALICE}, this is localhost." in said
    assert "test-poll@localhost: the poll test-poll" in said and "change@localhost: change proposals" in said
    assert re.search(r"> version\ncivitas \d+\.\d+\.\d+ at localhost", said)
    assert "error: the site's own address knows hello, help, version, not 'vote'" in said


def test_mail_for_other_domains_is_refused_at_the_door(post):
    with smtplib.SMTP("127.0.0.1", post.port) as smtp, pytest.raises(smtplib.SMTPRecipientsRefused):
        smtp.sendmail(ALICE, ["someone@elsewhere.example"], b"Subject: relay me\r\n\r\nhi\r\n")


def test_a_message_over_the_size_limit_is_refused_by_the_server(make_post):
    post = make_post(MAIL_MAX_BYTES=4096)
    with pytest.raises((smtplib.SMTPDataError, smtplib.SMTPSenderRefused)) as refused:
        post.send("register@localhost", "hello\n" + "x" * 10_000)
    assert refused.value.smtp_code == 552
    assert post.trusts(ALICE) == []


def test_mail_failing_the_spam_check_runs_nothing_and_gets_no_answer(make_post):
    post = make_post(MAIL_AUTHSERV_ID="mx.localhost")
    seen = len(post.mails_to(ALICE))
    post.send("register@localhost", "hello\n", Authentication_Results="mx.localhost; spf=fail smtp.mailfrom=example.org")
    post.send("register@localhost", "hello\n")  # no verdict at all
    reply = post.ask("register@localhost", "hello\n",
                     Authentication_Results="mx.localhost; dkim=pass header.d=example.org")
    assert "hello alice@example.org" in text(reply)
    assert len(post.mails_to(ALICE)) == seen + 1  # only the one that passed was answered
