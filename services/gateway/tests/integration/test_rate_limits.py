"""Rate limits: sign-in codes strictly per address and per email, every request per address and per voter."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from civitas_gateway.ratelimit import Rate, RateLimiter


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_code_requests_for_one_email_from_one_client_are_limited(make_client, inbox, expect_problem):
    client = make_client(RATE_CODE_ADDRESS="100/10min", RATE_CODE_EMAIL="5/10min")  # only the email's limit bites
    answers = [client.post("/api/auth/code", json={"email": "alice@example.org"}) for _ in range(6)]

    assert [a.status_code for a in answers[:5]] == [202] * 5
    problem = expect_problem(answers[5], 429, "rate-limited")
    retry = int(answers[5].headers["retry-after"])
    assert 0 < retry <= 120  # 5 per 10 minutes: a token is back after two minutes at most
    assert "email address" in problem["detail"]
    assert len(inbox.messages) == 5  # no mail for the refused request
    assert client.post("/api/auth/code", json={"email": "bob@example.org"}).status_code == 202


def test_others_asking_for_a_voters_codes_do_not_lock_the_voter_out(make_client, inbox, expect_problem):
    attacker = make_client()
    for _ in range(20):
        attacker.post("/api/auth/code", json={"email": "victim@example.org"})
    expect_problem(attacker.post("/api/auth/code", json={"email": "victim@example.org"}), 429, "rate-limited")

    victim = TestClient(attacker.app, client=("198.51.100.7", 50000))  # the victim, from their own address
    sent = victim.post("/api/auth/code", json={"email": "victim@example.org"})
    assert sent.status_code == 202, sent.text
    opened = victim.post("/api/auth/session", json={"challenge": sent.json()["challenge"],
                                                    "code": inbox.code_for("victim@example.org")})
    assert opened.status_code == 200, opened.text


def test_the_sites_mail_is_capped_per_hour(make_client, inbox, expect_problem):
    clients = [make_client(MAIL_PER_HOUR=3)]
    app = clients[0].app
    clients += [TestClient(app, client=(f"198.51.100.{i}", 50000)) for i in range(1, 4)]
    answers = [c.post("/api/auth/code", json={"email": f"voter{i}@example.org"}) for i, c in enumerate(clients)]
    assert [a.status_code for a in answers[:3]] == [202] * 3
    problem = expect_problem(answers[3], 503, "mail-cap-reached")
    assert "this hour" in problem["detail"] and int(answers[3].headers["retry-after"]) > 0
    assert len(inbox.messages) == 3


def test_code_requests_from_one_address_are_limited(make_client, expect_problem):
    client = make_client(RATE_CODE_ADDRESS="3/10min")

    answers = [client.post("/api/auth/code", json={"email": f"voter{i}@example.org"}) for i in range(4)]

    assert [a.status_code for a in answers[:3]] == [202] * 3
    expect_problem(answers[3], 429, "rate-limited")
    assert int(answers[3].headers["retry-after"]) > 0


def test_every_request_from_one_address_is_limited(make_client, expect_problem):
    client = make_client(RATE_ADDRESS="3/1min")

    answers = [client.get("/demo/public") for _ in range(4)]

    assert [a.status_code for a in answers[:3]] == [200] * 3
    expect_problem(answers[3], 429, "rate-limited")
    assert answers[3].headers["retry-after"] == "20"


def test_a_signed_in_voters_requests_are_limited(make_client, sign_in, expect_problem):
    client = make_client(RATE_VOTER="2/1min")
    token = sign_in(client, "alice@example.org")

    answers = [client.get("/demo/me", headers=bearer(token)) for _ in range(3)]

    assert [a.status_code for a in answers[:2]] == [200, 200]
    expect_problem(answers[2], 429, "rate-limited")
    assert client.get("/demo/public").status_code == 200  # the voter's limit, not the address's


def test_a_bucket_refills_evenly():
    now = [0.0]
    limiter = RateLimiter(Rate.parse("5/10min"), clock=lambda: now[0])

    assert [limiter.take("k") for _ in range(5)] == [None] * 5
    assert limiter.take("k") == pytest.approx(120)
    now[0] += 119
    assert limiter.take("k") == pytest.approx(1)
    now[0] += 1
    assert limiter.take("k") is None
    assert limiter.take("other") is None  # keys do not share a bucket


@pytest.mark.parametrize("text, rate", [("5/10min", Rate(5, 600)), ("10/s", Rate(10, 1)), ("1000/1h", Rate(1000, 3600))])
def test_rates_are_written_count_per_period(text, rate):
    assert Rate.parse(text) == rate


@pytest.mark.parametrize("text", ["5", "5/10", "0/1min", "5/0min", "five/min", "5/10 fortnights"])
def test_a_bad_rate_says_how_to_write_one(text):
    with pytest.raises(ValueError, match="COUNT/PERIOD|positive"):
        Rate.parse(text)


def test_an_operator_sets_rates_in_the_environment(monkeypatch, tmp_path):
    from civitas_gateway.auth import AuthSettings

    monkeypatch.setenv("CIVITAS_HOME", str(tmp_path))
    monkeypatch.setenv("CIVITAS_RATE_ADDRESS", "1000/1min")
    monkeypatch.setenv("CIVITAS_RATE_CODE_EMAIL", "3/1h")
    settings = AuthSettings()
    assert (settings.RATE_ADDRESS, settings.RATE_CODE_EMAIL) == (Rate(1000, 60), Rate(3, 3600))
