"""Signing in by a code mailed over real SMTP, and what a session token then allows."""

from __future__ import annotations


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ask_code(client, address: str) -> str:
    sent = client.post("/api/auth/code", json={"email": address})
    assert sent.status_code == 202, sent.text
    return sent.json()["challenge"]


def test_a_voter_signs_in_with_the_code_from_the_mail(client, inbox):
    sent = client.post("/api/auth/code", json={"email": "  Alice@Example.ORG "})

    assert sent.status_code == 202
    assert set(sent.json()) == {"challenge", "expires_at"}
    mail = inbox.last_to("alice@example.org")
    assert inbox.recipients[-1] == ["alice@example.org"]
    assert mail["From"] == "civitas@localhost" and "sign-in code" in mail["Subject"]
    code = inbox.code_for("alice@example.org")
    assert code not in sent.text  # the code travels only by mail

    opened = client.post("/api/auth/session", json={"challenge": sent.json()["challenge"], "code": code})

    assert opened.status_code == 200, opened.text
    assert opened.headers["cache-control"] == "no-store"
    session = opened.json()
    assert session["voter"] == "alice@example.org" and session["token_type"] == "Bearer"
    assert len(session["token"]) >= 43  # 32 random bytes, base64url
    assert client.get("/demo/me", headers=bearer(session["token"])).json() == {"voter": "alice@example.org"}
    assert client.get("/demo/public", headers=bearer(session["token"])).json() == {"voter": "alice@example.org"}


def test_the_answer_to_a_code_request_is_the_same_for_any_address(client, inbox):
    # Nothing says whether an address is a registered voter's: every valid one gets a code.
    answers = [client.post("/api/auth/code", json={"email": a}) for a in ("alice@example.org", "nobody@example.net")]

    assert [a.status_code for a in answers] == [202, 202]
    assert [set(a.json()) for a in answers] == [{"challenge", "expires_at"}] * 2
    assert len(inbox.messages) == 2


def test_the_mail_carries_a_sign_in_link_when_the_site_has_a_sign_in_page(make_client, inbox):
    client = make_client(SIGN_IN_PAGE="https://civitas.example.org/sign-in")
    challenge = ask_code(client, "alice@example.org")

    body = inbox.last_to("alice@example.org").get_content()

    code = inbox.code_for("alice@example.org")
    assert f"https://civitas.example.org/sign-in?challenge={challenge}&code={code}" in body


def test_five_wrong_codes_close_the_challenge(client, inbox, expect_problem):
    challenge = ask_code(client, "alice@example.org")
    right = inbox.code_for("alice@example.org")
    wrong = f"{(int(right) + 1) % 10**6:06d}"

    left = []
    for _ in range(5):
        problem = expect_problem(client.post("/api/auth/session", json={"challenge": challenge, "code": wrong}), 400, "wrong-code")
        left.append(problem["tries_left"])
    after = client.post("/api/auth/session", json={"challenge": challenge, "code": right})

    assert left == [4, 3, 2, 1, 0]
    expect_problem(after, 400, "challenge-closed")
    assert client.get("/demo/me").status_code == 401


def test_an_expired_code_is_refused(client, inbox, clock, expect_problem):
    challenge = ask_code(client, "alice@example.org")
    code = inbox.code_for("alice@example.org")

    clock.advance(10 * 60)
    refused = client.post("/api/auth/session", json={"challenge": challenge, "code": code})

    problem = expect_problem(refused, 400, "code-expired")
    assert "ask for a new one" in problem["detail"]


def test_a_code_works_just_before_it_expires(client, inbox, clock):
    challenge = ask_code(client, "alice@example.org")
    code = inbox.code_for("alice@example.org")

    clock.advance(10 * 60 - 1)

    assert client.post("/api/auth/session", json={"challenge": challenge, "code": code}).status_code == 200


def test_a_used_code_is_refused(client, inbox, expect_problem):
    challenge = ask_code(client, "alice@example.org")
    body = {"challenge": challenge, "code": inbox.code_for("alice@example.org")}
    assert client.post("/api/auth/session", json=body).status_code == 200

    again = client.post("/api/auth/session", json=body)

    expect_problem(again, 400, "code-used")


def test_an_unknown_challenge_is_refused(client, expect_problem):
    refused = client.post("/api/auth/session", json={"challenge": "made-up", "code": "123456"})

    expect_problem(refused, 400, "unknown-challenge")


def test_a_code_opens_a_session_only_for_its_own_challenge(client, inbox, expect_problem):
    alice = ask_code(client, "alice@example.org")
    ask_code(client, "mallory@example.org")
    mallorys_code = inbox.code_for("mallory@example.org")

    refused = client.post("/api/auth/session", json={"challenge": alice, "code": mallorys_code})

    if mallorys_code != inbox.code_for("alice@example.org"):  # one chance in a million they are equal
        expect_problem(refused, 400, "wrong-code")


def test_signing_out_revokes_the_token(client, sign_in, expect_problem):
    token = sign_in(client, "alice@example.org")
    other = sign_in(client, "alice@example.org")

    signed_out = client.delete("/api/auth/session", headers=bearer(token))

    assert signed_out.status_code == 204
    problem = expect_problem(client.get("/demo/me", headers=bearer(token)), 401, "unauthenticated")
    assert "sign in again" in problem["detail"]
    assert client.get("/demo/me", headers=bearer(other)).status_code == 200  # other sessions live on


def test_a_session_ends_after_its_hours(make_client, sign_in, clock):
    client = make_client(SESSION_HOURS=12)
    token = sign_in(client, "alice@example.org")

    clock.advance(12 * 3600 - 1)
    assert client.get("/demo/me", headers=bearer(token)).status_code == 200
    clock.advance(1)
    assert client.get("/demo/me", headers=bearer(token)).status_code == 401


def test_voter_routes_need_a_session(client, expect_problem):
    anonymous = client.get("/demo/me")
    forged = client.get("/demo/me", headers=bearer("not-a-session"))

    expect_problem(anonymous, 401, "unauthenticated")
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    expect_problem(forged, 401, "unauthenticated")
    assert 'error="invalid_token"' in forged.headers["www-authenticate"]
    assert client.get("/demo/public").json() == {"voter": None}  # public reads need nothing


def test_a_code_request_for_an_invalid_address_lists_the_field(client, inbox, expect_problem):
    refused = client.post("/api/auth/code", json={"email": "not an address"})

    problem = expect_problem(refused, 422, "invalid-request")
    assert [e["field"] for e in problem["errors"]] == ["email"]
    assert problem["errors"][0]["pointer"] == "#/email"
    assert inbox.messages == []
