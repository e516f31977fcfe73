"""Idempotency keys over HTTP: each caller's own, one request per key, a retry answered with the first reply; through
the API, the voter shell endpoint and the pages."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def api(make_site_app, operator_headers):
    _, app = make_site_app()
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/api/polls", json={"name": "test-poll"}, headers=operator_headers).status_code == 201
        yield client


@pytest.fixture
def signed_in(api, sign_in):
    return lambda address: {"Authorization": f"Bearer {sign_in(api, address)}"}


def vote(api, headers, candidate, key):
    return api.put("/api/polls/test-poll/vote", json={"candidate": candidate}, headers=headers | {"Idempotency-Key": key})


def test_a_key_another_voter_used_is_not_theirs(api, signed_in):
    alice, bob = signed_in("alice@example.org"), signed_in("bob@example.org")
    assert vote(api, alice, "carol@example.org", "k-1").status_code == 200
    reply = vote(api, bob, "dave@example.org", "k-1")
    assert reply.status_code == 200 and reply.json()["data"]["candidate"] == "dave@example.org"
    assert api.get("/api/polls/test-poll/votes").json() == {"alice@example.org": "carol@example.org",
                                                             "bob@example.org": "dave@example.org"}


def test_a_key_reused_for_another_request_is_refused_saying_so(api, signed_in, expect_problem):
    alice = signed_in("alice@example.org")
    vote(api, alice, "carol@example.org", "k-1")
    problem = expect_problem(vote(api, alice, "dave@example.org", "k-1"), 422, "idempotency-key-reused")
    assert "new key" in problem["detail"]
    expect_problem(api.delete("/api/polls/test-poll/vote", headers=alice | {"Idempotency-Key": "k-1"}), 422)
    assert api.get("/api/polls/test-poll/votes").json() == {"alice@example.org": "carol@example.org"}


def test_a_retry_gets_the_first_reply(api, signed_in):
    alice = signed_in("alice@example.org")
    first = vote(api, alice, "carol@example.org", "k-1")
    vote(api, alice, "dave@example.org", "k-2")
    retry = vote(api, alice, "carol@example.org", "k-1")
    assert retry.status_code == 200 and retry.json() == first.json()  # not "you were voting for dave…"
    assert api.get("/api/polls/test-poll/votes").json() == {"alice@example.org": "dave@example.org"}


def test_the_shell_endpoint_scopes_keys_the_same_way(api, signed_in, expect_problem):
    alice, bob = signed_in("alice@example.org"), signed_in("bob@example.org")

    def shell(headers, line, key):
        return api.post("/api/shell", json={"line": line}, headers=headers | {"Idempotency-Key": key})

    first = shell(alice, "register set name Alice", "s-1")
    assert shell(bob, "register set name Bob", "s-1").json()["data"]["after"] == "Bob"
    assert shell(alice, "register set name Alice", "s-1").json() == first.json()
    expect_problem(shell(alice, "register set name Mallory", "s-1"), 422, "idempotency-key-reused")
    assert api.get("/api/register/alice@example.org").json()["attributes"] == {"name": "Alice"}


def test_a_form_sent_twice_acts_once(api, sign_in, inbox):
    api.cookies.set("civitas_session", sign_in(api, "alice@example.org"))

    def vote_form() -> dict:
        page = api.get("/polls/test-poll").text
        return {name: re.search(rf'name="{name}" value="([^"]*)"', page)[1] for name in ("csrf", "key")}

    form = vote_form()
    first = api.post("/polls/test-poll/vote", data=form | {"candidate": "carol@example.org"}, follow_redirects=False)
    assert "you%20now%20vote%20for%20carol" in first.headers["location"]
    api.post("/polls/test-poll/vote", data=vote_form() | {"candidate": "dave@example.org"})  # a new page, a new form
    resent = api.post("/polls/test-poll/vote", data=form | {"candidate": "carol@example.org"}, follow_redirects=False)
    assert resent.headers["location"] == first.headers["location"]  # answered as then, not applied again
    changed = api.post("/polls/test-poll/vote", data=form | {"candidate": "erin@example.org"})
    assert "this form was sent already" in changed.text
    assert api.get("/api/polls/test-poll/votes").json() == {"alice@example.org": "dave@example.org"}
