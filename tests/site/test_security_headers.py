"""Every answer carries the security headers; pages a Content-Security-Policy that allows no inline script or style,
which the templates keep to (and Chromium confirms: no page breaks its policy)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import civitas_gateway

TEMPLATES = Path(civitas_gateway.__file__).parent / "templates"
ALWAYS = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "no-referrer"}


@pytest.fixture
def client(make_site_app, operator_headers, sign_in):
    _, app = make_site_app()
    with TestClient(app, raise_server_exceptions=False) as client:
        client.post("/api/polls", json={"name": "test-poll"}, headers=operator_headers)
        client.cookies.set("civitas_session", sign_in(client, "alice@example.org"))
        yield client


def policy(response) -> dict[str, str]:
    directives = [d.strip().split(" ", 1) for d in response.headers["content-security-policy"].split(";")]
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


@pytest.mark.parametrize("path", ["/", "/signin", "/me", "/polls", "/polls/test-poll", "/neighbours", "/records",
                                  "/docs"])
def test_every_page_has_a_policy_without_inline_script(client, path):
    page = client.get(path, follow_redirects=False)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert {k: page.headers.get(k) for k in ALWAYS} == ALWAYS
    rules = policy(page)
    assert rules["frame-ancestors"] == "'none'" and rules["object-src"] == "'none'"
    assert "unsafe-inline" not in rules["script-src"] and "unsafe-eval" not in rules["script-src"]
    assert "unsafe-inline" not in rules.get("style-src", "")
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text), "inline script"


@pytest.mark.parametrize("method, path", [("GET", "/api/polls"), ("GET", "/health"), ("GET", "/api/polls/nope"),
                                          ("GET", "/static/site.css"), ("POST", "/api/polls")])
def test_the_api_and_its_problems_carry_them_too(client, method, path):
    answer = client.request(method, path)
    assert {k: answer.headers.get(k) for k in ALWAYS} == ALWAYS
    assert policy(answer)["frame-ancestors"] == "'none'"


def test_a_rate_limited_answer_carries_them(make_site_app):
    _, app = make_site_app(RATE_ADDRESS="1/1min")
    with TestClient(app) as client:
        client.get("/health")
        limited = client.get("/health")
    assert limited.status_code == 429 and limited.headers["x-frame-options"] == "DENY"


def test_https_answers_ask_browsers_to_stay_on_https(make_site_app):
    _, app = make_site_app()
    with TestClient(app, base_url="https://testserver") as client:
        assert client.get("/health").headers["strict-transport-security"].startswith("max-age=")
    with TestClient(app) as client:
        assert "strict-transport-security" not in client.get("/health").headers


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_no_template_holds_inline_script_or_style(template):
    text = (TEMPLATES / template).read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", text), "inline <script>: move it to static/"
    assert "<style" not in text and not re.search(r"\sstyle=", text), "inline style: move it to static/site.css"
    assert not re.search(r"\son[a-z]+=", text), "inline event handler: move it to static/"
