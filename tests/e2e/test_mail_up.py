"""`civitas up` with CIVITAS_MAIL_PORT set takes voters' commands by mail beside its web pages."""

from __future__ import annotations

import smtplib
import time
from email.message import EmailMessage

from civitas_kernel.testing.ports import free_port


def send(port: int, to: str, body: str) -> None:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "alice@example.org", to, "by mail"
    mail.set_content(body)
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.send_message(mail)


def wait_for(inbox, count: int) -> EmailMessage:
    deadline = time.monotonic() + 30
    while len(inbox.messages) < count:
        assert time.monotonic() < deadline, [m["Subject"] for m in inbox.messages]
        time.sleep(0.05)
    return inbox.messages[count - 1]


def test_up_takes_commands_by_mail(up, smtp):
    inbox, relay = smtp
    mail_port = free_port()
    site = up(CIVITAS_SMTP_HOST="127.0.0.1", CIVITAS_SMTP_PORT=str(relay), CIVITAS_MAIL_PORT=str(mail_port))
    send(mail_port, "register@localhost", "set name Alice\n")
    challenge = wait_for(inbox, 1)
    send(mail_port, str(challenge["Reply-To"]), "yes")
    reply = wait_for(inbox, 2)
    assert "> set name Alice\r\nname: (none) -> Alice" in reply.get_content()
    out = site.stop()
    assert f"taking voters' mail for @localhost on smtp://127.0.0.1:{mail_port}" in out


def test_mail_serve_answers_and_stops_on_ctrl_c(tmp_path, smtp):
    import os
    import signal
    import subprocess

    from .conftest import CIVITAS

    inbox, relay = smtp
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVITAS_")} | {
        "CIVITAS_HOME": str(tmp_path / "home"), "CIVITAS_SITE": "localhost", "CIVITAS_SMTP_HOST": "127.0.0.1",
        "CIVITAS_SMTP_PORT": str(relay)}
    serving = subprocess.Popen([CIVITAS, "mail", "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                send(port, "civitas@localhost", "version\n")
                break
            except OSError:
                assert serving.poll() is None and time.monotonic() < deadline, serving.stderr.read()
                time.sleep(0.1)
        assert "> version\r\ncivitas " in wait_for(inbox, 1).get_content()
    finally:
        serving.send_signal(signal.SIGINT)
        out, err = serving.communicate(timeout=30)
    assert serving.returncode == 0, err
    assert f"taking mail for @localhost on smtp://127.0.0.1:{port}" in out
