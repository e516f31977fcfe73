"""Two-step sign-in: enrol an authenticator app, confirm it, and from then on sign-in needs its code."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pyotp


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ask_code(client, inbox, address: str) -> dict:
    challenge = client.post("/api/auth/code", json={"email": address}).json()["challenge"]
    return {"challenge": challenge, "code": inbox.code_for(address)}


def turn_on(client, token: str, clock) -> pyotp.TOTP:
    enrolled = client.post("/api/auth/totp/enrol", headers=bearer(token))
    assert enrolled.status_code == 200, enrolled.text
    app = pyotp.TOTP(enrolled.json()["secret"])
    confirmed = client.post("/api/auth/totp/confirm", headers=bearer(token), json={"code": app.at(clock())})
    assert confirmed.status_code == 204, confirmed.text
    return app


def test_enrolment_gives_a_secret_and_an_otpauth_uri(client, sign_in):
    token = sign_in(client, "alice@example.org")

    enrolled = client.post("/api/auth/totp/enrol", headers=bearer(token))

    assert enrolled.headers["cache-control"] == "no-store"
    secret, uri = enrolled.json()["secret"], urlparse(enrolled.json()["uri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert "alice%40example.org" in uri.path or "alice@example.org" in uri.path
    assert parse_qs(uri.query)["secret"] == [secret] and parse_qs(uri.query)["issuer"] == ["localhost"]


def test_enrolment_needs_a_signed_in_voter(client, expect_problem):
    expect_problem(client.post("/api/auth/totp/enrol"), 401, "unauthenticated")


def test_a_wrong_first_code_does_not_turn_it_on(client, sign_in, inbox, clock, expect_problem):
    token = sign_in(client, "alice@example.org")
    secret = client.post("/api/auth/totp/enrol", headers=bearer(token)).json()["secret"]
    wrong = pyotp.TOTP(secret).at(clock() + 3600)

    refused = client.post("/api/auth/totp/confirm", headers=bearer(token), json={"code": wrong})

    expect_problem(refused, 400, "wrong-totp")
    assert client.post("/api/auth/session", json=ask_code(client, inbox, "alice@example.org")).status_code == 200


def test_once_on_sign_in_needs_the_authenticator_code(client, sign_in, inbox, clock, expect_problem):
    app = turn_on(client, sign_in(client, "alice@example.org"), clock)
    clock.advance(30)  # the next time step: the code used to confirm works only once

    attempt = ask_code(client, inbox, "alice@example.org")
    without = client.post("/api/auth/session", json=attempt)
    expect_problem(without, 400, "totp-required")
    with_it = client.post("/api/auth/session", json=attempt | {"totp": app.at(clock())})

    assert with_it.status_code == 200, with_it.text
    assert client.get("/demo/me", headers=bearer(with_it.json()["token"])).json() == {"voter": "alice@example.org"}


def test_an_authenticator_code_works_once(client, sign_in, inbox, clock, expect_problem):
    app = turn_on(client, sign_in(client, "alice@example.org"), clock)
    clock.advance(30)
    code = app.at(clock())
    assert client.post("/api/auth/session", json=ask_code(client, inbox, "alice@example.org") | {"totp": code}).status_code == 200

    replayed = client.post("/api/auth/session", json=ask_code(client, inbox, "alice@example.org") | {"totp": code})

    expect_problem(replayed, 400, "wrong-totp")


def test_wrong_authenticator_codes_spend_the_challenges_tries(client, sign_in, inbox, clock, expect_problem):
    app = turn_on(client, sign_in(client, "alice@example.org"), clock)
    attempt = ask_code(client, inbox, "alice@example.org")
    wrong = app.at(clock() + 3600)

    for left in (4, 3, 2, 1, 0):
        problem = expect_problem(client.post("/api/auth/session", json=attempt | {"totp": wrong}), 400, "wrong-totp")
        assert problem["tries_left"] == left
    clock.advance(30)

    expect_problem(client.post("/api/auth/session", json=attempt | {"totp": app.at(clock())}), 400, "challenge-closed")


def test_enrolling_again_once_on_is_refused(client, sign_in, clock, expect_problem):
    token = sign_in(client, "alice@example.org")
    turn_on(client, token, clock)

    expect_problem(client.post("/api/auth/totp/enrol", headers=bearer(token)), 409, "totp-already-on")


def test_other_voters_are_not_asked_for_a_code(client, sign_in, clock):
    turn_on(client, sign_in(client, "alice@example.org"), clock)

    sign_in(client, "bob@example.org")  # asserts the session opens without totp
