"""The voters' HTTP API of the whole site, driven as a client would: sign in, register, vote, read the count."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def api(make_site_app):
    _, app = make_site_app()
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def voter(api, sign_in):
    def make(address: str, postal: str = "A1000") -> dict:
        headers = {"Authorization": f"Bearer {sign_in(api, address)}"}
        reply = api.put(f"/api/register/{address}/attributes/residence", json={"value": f"1 Main St, Town {postal}"},
                        headers=headers)
        assert reply.status_code == 200, reply.text
        return headers

    return make


def test_register_vote_compile_and_read_the_count(api, voter, operator_headers):
    assert api.post("/api/polls", json={"name": "test-poll", "title": "Test poll"}, headers=operator_headers).status_code == 201
    voters = {f"{g}{n}@sim.example.org": voter(f"{g}{n}@sim.example.org") for g in "ab" for n in (1, 2)}
    for address, headers in voters.items():
        reply = api.put("/api/polls/test-poll/vote", json={"candidate": f"sim-{address[0]}@sim.example.org"}, headers=headers)
        assert reply.status_code == 200, reply.text
    assert api.post("/api/records/list", headers=operator_headers).status_code == 201
    assert api.post("/api/records/count", headers=operator_headers).status_code == 201
    count = api.get("/api/counts/test-poll").json()
    assert count["turnout"] == 4
    assert [(r["rank"], r["candidate"], r["receive"]) for r in count["ranking"]] == [
        (1, "sim-a@sim.example.org", 2), (1, "sim-b@sim.example.org", 2)]
    trace = api.get("/api/counts/test-poll/trace/a1@sim.example.org").json()
    assert trace["path"] == ["a1@sim.example.org", "sim-a@sim.example.org"] and trace["held_by"] == "sim-a@sim.example.org"
    assert api.get("/api/list/a1@sim.example.org").json()["neighbourhood"] == "A1000"
    records = api.get("/api/records/count").json()
    assert records[0]["reported"] and records[0]["depends"] == {"list": 1}


def test_only_the_signed_in_voter_acts_as_themselves(api, voter, expect_problem, operator_headers):
    api.post("/api/polls", json={"name": "test-poll"}, headers=operator_headers)
    expect_problem(api.put("/api/polls/test-poll/vote", json={"candidate": "b@example.org"}), 401, "unauthenticated")
    alice = voter("alice@example.org")
    expect_problem(api.post("/api/polls", json={"name": "mayor"}, headers=alice), 403, "operator-only")
    expect_problem(api.post("/api/records/list", headers=alice), 403)


def test_mistakes_get_problems_and_write_nothing(api, voter, expect_problem, operator_headers):
    api.post("/api/polls", json={"name": "test-poll"}, headers=operator_headers)
    alice = voter("alice@example.org")
    before = api.get("/api/log/streams").json()
    assert "email address" in expect_problem(
        api.put("/api/polls/test-poll/vote", json={"candidate": "bob"}, headers=alice), 400)["detail"]
    expect_problem(api.put("/api/polls/mayor/vote", json={"candidate": "bob@example.org"}, headers=alice), 404)
    expect_problem(api.put("/api/trust/alice@example.org", headers=alice), 400)
    expect_problem(api.put("/api/register/alice@example.org/attributes/shoe", json={"value": "9"}, headers=alice), 422)
    expect_problem(api.put("/api/polls/test-poll/vote", json={"candidate": ""}, headers=alice), 422)
    assert api.get("/api/log/streams").json() == before


def test_a_retried_request_with_its_idempotency_key_applies_once(api, voter, operator_headers):
    api.post("/api/polls", json={"name": "test-poll"}, headers=operator_headers)
    alice = voter("alice@example.org") | {"Idempotency-Key": "vote-1"}
    for _ in range(3):
        assert api.put("/api/polls/test-poll/vote", json={"candidate": "bob@example.org"}, headers=alice).status_code == 200
    streams = {s["stream"]: s["seq"] for s in api.get("/api/log/streams").json()}
    assert streams["vote"] == 1


def test_the_voter_shell_over_http_runs_as_the_signed_in_voter(api, voter, expect_problem, operator_headers):
    api.post("/api/polls", json={"name": "test-poll"}, headers=operator_headers)
    alice = voter("alice@example.org")
    reply = api.post("/api/shell", json={"line": "test-poll vote bob@example.org"}, headers=alice)
    assert reply.status_code == 200 and "you now vote for bob@example.org" in reply.json()["text"]
    expect_problem(api.post("/api/shell", json={"line": "mallory@example.org register hello"}, headers=alice), 400)
    assert api.get("/api/polls/test-poll/votes").json() == {"alice@example.org": "bob@example.org"}


def test_the_api_is_published(api):
    spec = api.get("/openapi.json").json()
    assert "/api/polls/{poll}/vote" in spec["paths"] and "/api/auth/session" in spec["paths"]
    assert api.get("/health").json()["status"] == "ok" and api.get("/ready").json()["status"] == "ready"


def test_the_vote_routes_honour_the_apps_dependency_overrides(make_site_app, operator_headers):
    from civitas_gateway.auth.guards import current_voter

    _, app = make_site_app()
    app.dependency_overrides[current_voter] = lambda: "stand-in@example.org"  # as a test of a site would sign in
    with TestClient(app, raise_server_exceptions=False) as api:
        assert api.post("/api/polls", json={"name": "test-poll"}, headers=operator_headers).status_code == 201
        reply = api.put("/api/polls/test-poll/vote", json={"candidate": "c@example.org"})
        assert reply.status_code == 200, reply.text
        assert api.delete("/api/polls/test-poll/vote").status_code == 200


def test_a_count_in_which_no_vote_is_cast_still_draws_its_page(api, sign_in, operator_headers):
    api.post("/api/polls", json={"name": "test-poll"}, headers=operator_headers)
    alice = {"Authorization": f"Bearer {sign_in(api, 'alice@example.org')}"}  # not registered: her vote is barred
    assert api.put("/api/polls/test-poll/vote", json={"candidate": "bob@example.org"}, headers=alice).status_code == 200
    api.post("/api/records/list", headers=operator_headers)
    api.post("/api/records/count", headers=operator_headers)
    page = api.get("/polls/test-poll")
    assert page.status_code == 200 and "No vote is cast in this count" in page.text
