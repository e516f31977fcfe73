"""The sign-in forms are this site's own: a post without the page's token, or one a browser marks as coming from
another site, signs nobody in (login CSRF)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def client(make_site_app):
    _, app = make_site_app()
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def form_token(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page)[1]


def attacker_code(client, inbox) -> dict:
    challenge = client.post("/api/auth/code", json={"email": "mallory@example.org"}).json()["challenge"]
    return {"challenge": challenge, "code": inbox.code_for("mallory@example.org")}


def test_a_post_without_the_pages_token_signs_nobody_in(client, inbox):
    answer = client.post("/signin/code", data=attacker_code(client, inbox), follow_redirects=False)
    assert answer.status_code == 403 and "did not come from this site" in answer.text
    assert "civitas_session" not in answer.cookies


def test_a_post_marked_cross_site_is_refused_even_with_a_token(client, inbox):
    token = form_token(client.get("/signin").text)
    answer = client.post("/signin/code", data=attacker_code(client, inbox) | {"csrf": token},
                         headers={"Sec-Fetch-Site": "cross-site"}, follow_redirects=False)
    assert answer.status_code == 403 and "civitas_session" not in answer.cookies


def test_the_sites_own_form_signs_in(client, inbox):
    token = form_token(client.get("/signin").text)
    sent = client.post("/signin", data={"email": "alice@example.org", "csrf": token},
                       headers={"Sec-Fetch-Site": "same-origin"})
    challenge = re.search(r'name="challenge" value="([^"]+)"', sent.text)[1]
    answer = client.post("/signin/code", data={"challenge": challenge, "code": inbox.code_for("alice@example.org"),
                                               "csrf": form_token(sent.text)}, follow_redirects=False)
    assert answer.status_code == 303 and "civitas_session" in answer.cookies
