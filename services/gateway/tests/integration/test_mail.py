"""Mail over real SMTP: a relay that is down answers 503; STARTTLS and login work against a real server."""

from __future__ import annotations

import datetime
import ssl
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from civitas_kernel.testing.mail import Inbox
from civitas_kernel.testing.ports import free_port

from civitas_gateway.mail import MailError, SMTPMailer


def test_a_relay_that_is_down_answers_503(make_client, expect_problem):
    client = make_client(SMTP_PORT=free_port())  # nothing listens there

    answer = client.post("/api/auth/code", json={"email": "alice@example.org"})

    problem = expect_problem(answer, 503, "mail-unavailable")
    assert "try again" in problem["detail"]
    assert int(answer.headers["retry-after"]) > 0


def test_a_relay_without_starttls_is_not_used_when_starttls_is_on(make_client, inbox, expect_problem):
    client = make_client(SMTP_STARTTLS=True)  # the test server offers no STARTTLS

    expect_problem(client.post("/api/auth/code", json={"email": "alice@example.org"}), 503, "mail-unavailable")
    assert inbox.messages == []


@pytest.fixture
def tls_files(tmp_path):
    """A self-signed certificate for 127.0.0.1: (server context, client context trusting it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


@pytest.fixture
def tls_relay(tls_files):
    """A real SMTP server that requires STARTTLS and a login (user civitas, password s3cret-relay)."""
    inbox, port = Inbox(), free_port()

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"civitas" and auth_data.password == b"s3cret-relay"
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself

    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, tls_context=tls_files[0], require_starttls=True,
        auth_required=True, authenticator=authenticate,
    )
    controller.start()
    yield inbox, port, tls_files[1]
    controller.stop()


def message() -> EmailMessage:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "civitas@localhost", "alice@example.org", "hello"
    m.set_content("hello\n")
    return m


def test_starttls_and_login_deliver_the_mail(tls_relay):
    inbox, port, trust = tls_relay

    SMTPMailer("127.0.0.1", port, starttls=True, user="civitas", password="s3cret-relay", tls_context=trust).send(message())

    assert inbox.last_to("alice@example.org")["Subject"] == "hello"


def test_a_wrong_relay_password_is_a_mail_error(tls_relay):
    inbox, port, trust = tls_relay

    with pytest.raises(MailError):
        SMTPMailer("127.0.0.1", port, starttls=True, user="civitas", password="wrong", tls_context=trust).send(message())
    assert inbox.messages == []


def test_an_untrusted_certificate_is_a_mail_error(tls_relay):
    _, port, _ = tls_relay

    with pytest.raises(MailError, match="certificate"):
        SMTPMailer("127.0.0.1", port, starttls=True, user="civitas", password="s3cret-relay").send(message())
