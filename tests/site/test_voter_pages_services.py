"""The voters' pages from a gateway in front of the services running on their own: the same standing, notices and
archives as the embedded site, read over the services' HTTP (registrants, /events/vote, the counter's archives)."""

from __future__ import annotations

import re
import smtplib
import time
from email.message import EmailMessage
from html import unescape

import httpx

from civitas.cli import main
from civitas_kernel.testing.ports import free_port
from civitas.exit_status import ExitStatus
from civitas_gateway.auth import AuthSettings

from .conftest import OPERATOR_TOKEN


def text_of(html: str, section: str) -> str:
    found = re.search(rf'<section id="{section}">(.*?)</section>', html, re.S)[1]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", found)).split())


def test_standing_notices_and_archives_through_the_services(noida_broker, threaded_services, smtp, tmp_path,
                                                            operator_headers, monkeypatch, capsys):
    inbox, port = smtp
    mail_port = free_port()
    monkeypatch.setenv("CIVITAS_MAIL_PORT", str(mail_port))  # the gateway takes voters' mail too
    auth = AuthSettings(HOME=tmp_path / "gateway", SITE="localhost", SMTP_HOST="127.0.0.1", SMTP_PORT=port,
                        SMTP_TIMEOUT=30, OPERATOR_TOKEN=OPERATOR_TOKEN)
    base = threaded_services(noida_broker.settings(), auth)["gateway"]
    deadline = time.monotonic() + 30
    while httpx.get(base + "/ready").status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    http = httpx.Client(base_url=base, timeout=30)
    http.post("/api/polls", json={"name": "test-poll"}, headers=operator_headers).raise_for_status()

    def signed_in(address: str) -> dict:
        challenge = http.post("/api/auth/code", json={"email": address}).json()["challenge"]
        token = http.post("/api/auth/session", json={"challenge": challenge, "code": inbox.code_for(address)}).json()["token"]
        return {"Authorization": f"Bearer {token}"}

    voters = {name: signed_in(f"{name}@example.org") for name in ("bob", "carol", "dave")}

    def shell(name: str, line: str) -> None:
        http.post("/api/shell", json={"line": line}, headers=voters[name]).raise_for_status()

    for name in voters:
        shell(name, "register set residence 1 Main St, Town A1000")
    http.post("/api/registrar/trust", json={"voter": "carol@example.org", "edges": 1},
              headers=operator_headers).raise_for_status()
    shell("carol", "register trust bob@example.org")
    shell("dave", "register doubt bob@example.org never met him")
    shell("carol", "test-poll vote bob@example.org")
    shell("dave", "test-poll vote carol@example.org")
    for kind in ("list", "count"):
        http.post(f"/api/records/{kind}", headers=operator_headers).raise_for_status()

    page = http.get("/voters/bob@example.org").text
    assert text_of(page, "trusted-by") == "Who trusts bob@example.org carol@example.org"
    assert text_of(page, "doubted-by") == "Who doubts bob@example.org dave@example.org : never met him"
    assert "bob@example.org's trust level is 1" in text_of(page, "trust-level")
    assert "Through the cascade: dave@example.org (via carol@example.org)" in text_of(page, "votes")
    assert "carol@example.org started voting for bob@example.org in test-poll" in text_of(page, "notices")
    assert inbox.last_to("bob@example.org")["Subject"] == "carol@example.org started voting for you in test-poll"

    records = http.get("/records").text
    (command,) = [c for c in re.findall(r'<code class="audit">([^<]+)</code>', records) if "count" in c]
    download = http.get("/records/count/1/archive.tar")
    assert download.status_code == 200
    monkeypatch.chdir(tmp_path)
    (tmp_path / command.split()[2]).write_bytes(download.content)
    assert main(command.split()[1:]) == ExitStatus.SUCCESS, capsys.readouterr()

    # by mail, through the gateway's inbound server: held, answered, run at the registry
    def mail(to: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "dave@example.org", to, "by mail"
        message.set_content(body)
        with smtplib.SMTP("127.0.0.1", mail_port, timeout=30) as smtp_client:
            smtp_client.send_message(message)

    def next_mail_to(address: str, seen: int) -> EmailMessage:
        deadline = time.monotonic() + 30
        while len(mails := [m for m in inbox.messages if str(m["To"]) == address]) <= seen:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        return mails[seen]

    seen = len([m for m in inbox.messages if str(m["To"]) == "dave@example.org"])
    mail("register@localhost", "undoubt bob@example.org\n")
    challenge = next_mail_to("dave@example.org", seen)
    mail(str(challenge["Reply-To"]), "yes")
    assert "you no longer doubt bob@example.org" in next_mail_to("dave@example.org", seen + 1).get_content()
    assert "Nobody." in text_of(http.get("/voters/bob@example.org").text, "doubted-by")
