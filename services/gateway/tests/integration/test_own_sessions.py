"""A voter sees the sessions signed in as them and ends any of them, or every one but the one they use."""

from __future__ import annotations

import pytest


@pytest.fixture
def client(make_client):
    return make_client(RATE_CODE_EMAIL="100/10min")  # one voter signs in many times from one client here


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_voter_sees_their_sessions_and_ends_another(client, sign_in, expect_problem):
    phone = sign_in(client, "alice@example.org")
    laptop = sign_in(client, "alice@example.org")
    sign_in(client, "bob@example.org")  # not hers: never listed, never hers to end

    listed = client.get("/api/auth/sessions", headers=bearer(laptop) | {"User-Agent": "x"}).json()
    assert len(listed) == 2 and [s["current"] for s in listed].count(True) == 1
    assert all(phone not in str(s) and laptop not in str(s) for s in listed)  # ids, never tokens
    other = next(s for s in listed if not s["current"])
    assert client.delete(f"/api/auth/sessions/{other['id']}", headers=bearer(laptop)).status_code == 204

    expect_problem(client.get("/demo/me", headers=bearer(phone)), 401, "unauthenticated")
    assert client.get("/demo/me", headers=bearer(laptop)).json() == {"voter": "alice@example.org"}
    expect_problem(client.delete(f"/api/auth/sessions/{other['id']}", headers=bearer(laptop)), 404, "no-such-session")


def test_a_voter_ends_every_session_but_this_one(client, sign_in, expect_problem):
    stolen = [sign_in(client, "alice@example.org") for _ in range(3)]
    mine = sign_in(client, "alice@example.org")
    bobs = sign_in(client, "bob@example.org")

    assert client.delete("/api/auth/sessions", headers=bearer(mine)).json() == {"ended": 3}
    for token in stolen:
        expect_problem(client.get("/demo/me", headers=bearer(token)), 401)
    assert client.get("/demo/me", headers=bearer(mine)).status_code == 200
    assert client.get("/demo/me", headers=bearer(bobs)).status_code == 200
