"""Two-step sign-in: enrol an authenticator app with a fresh mailed code, confirm it, and from then on sign-in needs its
code; turning it on or off needs the mailbox again and is told by mail; a lost authenticator is reset by email proof
after a delay the voter may cancel."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pyotp
import pytest

MANY_CODES = "100/10min"  # these tests ask for many codes to one address from one client


@pytest.fixture
def client(make_client):
    return make_client(RATE_CODE_EMAIL=MANY_CODES)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ask_code(client, inbox, address: str) -> dict:
    challenge = client.post("/api/auth/code", json={"email": address}).json()["challenge"]
    return {"challenge": challenge, "code": inbox.code_for(address)}


def enrol(client, inbox, token: str, address: str = "alice@example.org"):
    return client.post("/api/auth/totp/enrol", headers=bearer(token), json=ask_code(client, inbox, address))


def turn_on(client, token: str, clock, inbox, address: str = "alice@example.org") -> pyotp.TOTP:
    enrolled = enrol(client, inbox, token, address)
    assert enrolled.status_code == 200, enrolled.text
    app = pyotp.TOTP(enrolled.json()["secret"])
    confirmed = client.post("/api/auth/totp/confirm", headers=bearer(token), json={"code": app.at(clock())})
    assert confirmed.status_code == 204, confirmed.text
    return app


def test_enrolment_gives_a_secret_and_an_otpauth_uri(client, sign_in, inbox):
    token = sign_in(client, "alice@example.org")

    enrolled = enrol(client, inbox, token)

    assert enrolled.headers["cache-control"] == "no-store"
    secret, uri = enrolled.json()["secret"], urlparse(enrolled.json()["uri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert "alice%40example.org" in uri.path or "alice@example.org" in uri.path
    assert parse_qs(uri.query)["secret"] == [secret] and parse_qs(uri.query)["issuer"] == ["localhost"]


def test_enrolment_needs_a_signed_in_voter(client, inbox, expect_problem):
    expect_problem(client.post("/api/auth/totp/enrol", json=ask_code(client, inbox, "alice@example.org")), 401,
                   "unauthenticated")


def test_a_stolen_session_alone_cannot_turn_it_on(client, sign_in, inbox, expect_problem):
    token = sign_in(client, "alice@example.org")  # the thief holds this token, not the mailbox
    expect_problem(client.post("/api/auth/totp/enrol", headers=bearer(token)), 422, "invalid-request")
    mallory = ask_code(client, inbox, "mallory@example.org")  # a fresh code, but to the thief's own address
    expect_problem(client.post("/api/auth/totp/enrol", headers=bearer(token), json=mallory), 400, "wrong-challenge")
    guess = {"challenge": client.post("/api/auth/code", json={"email": "alice@example.org"}).json()["challenge"],
             "code": "000000" if inbox.code_for("alice@example.org") != "000000" else "111111"}
    expect_problem(client.post("/api/auth/totp/enrol", headers=bearer(token), json=guess), 400, "wrong-code")
    assert client.post("/api/auth/session", json=ask_code(client, inbox, "alice@example.org")).status_code == 200


def test_turning_it_on_is_told_by_mail(client, sign_in, inbox, clock):
    turn_on(client, sign_in(client, "alice@example.org"), clock, inbox)
    notice = inbox.last_to("alice@example.org")
    assert "Two-step sign-in is on" in notice["Subject"] and "end your other sessions" in notice.get_content()


def test_turning_it_off_needs_the_mailbox_and_the_authenticator(client, sign_in, inbox, clock, expect_problem):
    token = sign_in(client, "alice@example.org")
    app = turn_on(client, token, clock, inbox)
    clock.advance(30)
    expect_problem(client.post("/api/auth/totp/off", headers=bearer(token), json={"totp": app.at(clock())}), 422)
    wrong = ask_code(client, inbox, "alice@example.org") | {"totp": app.at(clock() + 3600)}
    expect_problem(client.post("/api/auth/totp/off", headers=bearer(token), json=wrong), 400, "wrong-totp")
    right = ask_code(client, inbox, "alice@example.org") | {"totp": app.at(clock())}
    assert client.post("/api/auth/totp/off", headers=bearer(token), json=right).status_code == 204
    assert "Two-step sign-in is off" in inbox.last_to("alice@example.org")["Subject"]
    assert client.post("/api/auth/session", json=ask_code(client, inbox, "alice@example.org")).status_code == 200


def test_a_lost_authenticator_is_reset_by_email_proof_after_a_delay(make_client, sign_in, inbox, clock, expect_problem):
    client = make_client(TOTP_RESET_HOURS=72, RATE_CODE_EMAIL=MANY_CODES)
    app = turn_on(client, sign_in(client, "alice@example.org"), clock, inbox)
    asked = client.post("/api/auth/totp/reset", json=ask_code(client, inbox, "alice@example.org"))
    assert asked.status_code == 202, asked.text
    assert "will be reset" in inbox.last_to("alice@example.org")["Subject"]
    clock.advance(71 * 3600)
    expect_problem(client.post("/api/auth/session", json=ask_code(client, inbox, "alice@example.org")), 400,
                   "totp-required")
    clock.advance(2 * 3600)
    assert client.post("/api/auth/session", json=ask_code(client, inbox, "alice@example.org")).status_code == 200
    assert app  # the old authenticator is no longer asked for


def test_the_voter_may_cancel_a_reset_they_did_not_ask(make_client, sign_in, inbox, clock, expect_problem):
    client = make_client(TOTP_RESET_HOURS=72, RATE_CODE_EMAIL=MANY_CODES)
    app = turn_on(client, sign_in(client, "alice@example.org"), clock, inbox)
    client.post("/api/auth/totp/reset", json=ask_code(client, inbox, "alice@example.org"))  # by a mailbox thief
    clock.advance(60)
    token = client.post("/api/auth/session", json=ask_code(client, inbox, "alice@example.org")
                        | {"totp": app.at(clock())}).json()["token"]
    assert client.delete("/api/auth/totp/reset", headers=bearer(token)).status_code == 204
    clock.advance(73 * 3600)
    expect_problem(client.post("/api/auth/session", json=ask_code(client, inbox, "alice@example.org")), 400,
                   "totp-required")


def test_a_wrong_first_code_does_not_turn_it_on(client, sign_in, inbox, clock, expect_problem):
    token = sign_in(client, "alice@example.org")
    secret = enrol(client, inbox, token).json()["secret"]
    wrong = pyotp.TOTP(secret).at(clock() + 3600)

    refused = client.post("/api/auth/totp/confirm", headers=bearer(token), json={"code": wrong})

    expect_problem(refused, 400, "wrong-totp")
    assert client.post("/api/auth/session", json=ask_code(client, inbox, "alice@example.org")).status_code == 200


def test_once_on_sign_in_needs_the_authenticator_code(client, sign_in, inbox, clock, expect_problem):
    app = turn_on(client, sign_in(client, "alice@example.org"), clock, inbox)
    clock.advance(30)  # the next time step: the code used to confirm works only once

    attempt = ask_code(client, inbox, "alice@example.org")
    without = client.post("/api/auth/session", json=attempt)
    expect_problem(without, 400, "totp-required")
    with_it = client.post("/api/auth/session", json=attempt | {"totp": app.at(clock())})

    assert with_it.status_code == 200, with_it.text
    assert client.get("/demo/me", headers=bearer(with_it.json()["token"])).json() == {"voter": "alice@example.org"}


def test_an_authenticator_code_works_once(client, sign_in, inbox, clock, expect_problem):
    app = turn_on(client, sign_in(client, "alice@example.org"), clock, inbox)
    clock.advance(30)
    code = app.at(clock())
    assert client.post("/api/auth/session", json=ask_code(client, inbox, "alice@example.org") | {"totp": code}).status_code == 200

    replayed = client.post("/api/auth/session", json=ask_code(client, inbox, "alice@example.org") | {"totp": code})

    expect_problem(replayed, 400, "wrong-totp")


def test_wrong_authenticator_codes_spend_the_challenges_tries(client, sign_in, inbox, clock, expect_problem):
    app = turn_on(client, sign_in(client, "alice@example.org"), clock, inbox)
    attempt = ask_code(client, inbox, "alice@example.org")
    wrong = app.at(clock() + 3600)

    for left in (4, 3, 2, 1, 0):
        problem = expect_problem(client.post("/api/auth/session", json=attempt | {"totp": wrong}), 400, "wrong-totp")
        assert problem["tries_left"] == left
    clock.advance(30)

    expect_problem(client.post("/api/auth/session", json=attempt | {"totp": app.at(clock())}), 400, "challenge-closed")


def test_enrolling_again_once_on_is_refused(client, sign_in, clock, inbox, expect_problem):
    token = sign_in(client, "alice@example.org")
    turn_on(client, token, clock, inbox)

    expect_problem(enrol(client, inbox, token), 409, "totp-already-on")


def test_other_voters_are_not_asked_for_a_code(client, sign_in, clock, inbox):
    turn_on(client, sign_in(client, "alice@example.org"), clock, inbox)

    sign_in(client, "bob@example.org")  # asserts the session opens without totp
