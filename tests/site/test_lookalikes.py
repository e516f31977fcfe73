"""Addresses and values that pass for others, over the site's API: refused with the reason, never stored, never
quietly rewritten."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

LOOKALIKES = ["bоb@example.org", "bob@exаmple.org", "bob@xn--exmple-4nf.org"]  # Cyrillic о, Cyrillic а, IDNA


@pytest.fixture
def api(make_site_app, operator_headers):
    _, app = make_site_app()
    with TestClient(app, raise_server_exceptions=False) as client:
        client.post("/api/polls", json={"name": "test-poll"}, headers=operator_headers)
        yield client


@pytest.fixture
def voter(api, sign_in):
    return lambda address: {"Authorization": f"Bearer {sign_in(api, address)}"}


@pytest.mark.parametrize("lookalike", LOOKALIKES)
def test_a_lookalike_of_bob_cannot_sign_in_be_trusted_or_voted_for(api, voter, expect_problem, lookalike):
    bob, alice = voter("bob@example.org"), voter("alice@example.org")
    api.put("/api/register/bob@example.org/attributes/name", json={"value": "Bob"}, headers=bob)
    problem = expect_problem(api.post("/api/auth/code", json={"email": lookalike}), 422, "invalid-request")
    assert "could pass for another address" in problem["errors"][0]["detail"]
    assert "mixes Latin and Cyrillic" in expect_problem(api.put(f"/api/trust/{lookalike}", headers=alice), 400)["detail"]
    expect_problem(api.put("/api/polls/test-poll/vote", json={"candidate": lookalike}, headers=alice), 400)
    assert api.get("/api/polls/test-poll/votes").json() == {} and api.get("/api/register/alice@example.org").json()[
        "trusts"] == []


def test_full_width_letters_are_the_same_voter_and_the_code_goes_to_their_mailbox(api, inbox):
    sent = api.post("/api/auth/code", json={"email": "ｂob@example.org"})
    assert sent.status_code == 202
    assert inbox.last_to("bob@example.org")  # not to a separate ｂob mailbox
    token = api.post("/api/auth/session", json={"challenge": sent.json()["challenge"],
                                                "code": inbox.code_for("bob@example.org")}).json()
    assert token["voter"] == "bob@example.org"


def test_a_single_script_lookalike_may_not_register_beside_the_voter_it_imitates(api, voter, expect_problem):
    ape = voter("ape@example.org")
    assert api.put("/api/register/ape@example.org/attributes/name", json={"value": "Ape"}, headers=ape).status_code == 200
    imitator = voter("аре@example.org")  # all Cyrillic: a real address in one script, so it may sign in
    refused = api.put("/api/register/аре@example.org/attributes/name", json={"value": "Ape"}, headers=imitator)
    assert "looks like the address of registered voter ape@example.org" in expect_problem(refused, 400)["detail"]
    assert api.get("/neighbours", params={"q": "ape"}).text.count("@example.org</td>") == 1


@pytest.mark.parametrize("value, said", [("Bob\u202egnal", "U+202E"), ("Bo\u200db", "U+200D"), ("\ufeffBob", "U+FEFF"),
                                         ("Bob\tSmith", "control characters"), ("Bob\u2028Smith", "control characters")])
def test_spoofing_characters_in_names_and_residences_are_refused_not_rewritten(api, voter, expect_problem, value, said):
    bob = voter("bob@example.org")
    for attribute in ("name", "residence"):
        refused = api.put(f"/api/register/bob@example.org/attributes/{attribute}", json={"value": value}, headers=bob)
        assert said in expect_problem(refused, 400)["detail"]
        if "\t" not in value:  # in the shell, as in any, a tab parts words
            shell = api.post("/api/shell", json={"line": f"register set {attribute} {value}"}, headers=bob)
            assert shell.status_code == 400, shell.text
    assert api.get("/api/register/bob@example.org").json()["attributes"] == {}
