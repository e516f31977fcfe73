"""Pages answer pages: forms posted by a browser get an HTML page for every error, over real HTTP and in Chromium;
the same requests from an API client keep their problem details."""

from __future__ import annotations

import re

import httpx
import pytest

from civitas_kernel.testing.ports import free_port
from civitas_kernel.testing.serving import ServerThread

from civitas_gateway import AuthSettings, create_app

from .conftest import OPERATOR_TOKEN

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def no_relay_site(tmp_path):
    """The whole site, its mail relay a port nothing listens on: what a fresh machine without the outbox has."""
    from civitas.settings import Settings
    from civitas.site import Site

    home = tmp_path / "home"
    site = Site(Settings(HOME=home, SITE="localhost", COMPILE_EVERY_MINUTES=0))
    auth = AuthSettings(HOME=home, SITE="localhost", SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_TIMEOUT=5,
                        OPERATOR_TOKEN=OPERATOR_TOKEN)
    with ServerThread().serving(create_app(site, auth)) as base:
        yield base


def heading(html: str) -> str:
    return re.search(r"<h2>(.*?)</h2>", html, re.S)[1]


def signin_form(browser: httpx.Client) -> dict[str, str]:
    """What the sign-in page's form carries besides the address: its token, tied to the page's pre-session cookie."""
    page = browser.get("/signin")
    return {"csrf": re.search(r'name="csrf" value="([^"]+)"', page.text)[1]}


def test_the_sign_in_form_with_no_relay_answers_a_page(no_relay_site):
    with httpx.Client(base_url=no_relay_site, headers=BROWSER) as browser:
        response = browser.post("/signin", data={"email": "alice@example.org"} | signin_form(browser))
    # The form again, saying why, with the status and when to try again: a page, never a JSON document.
    assert response.status_code == 503 and response.headers["content-type"].startswith("text/html")
    assert heading(response.text) == "Sign in" and 'role="alert"' in response.text
    assert "we could not send the mail just now; try again in a few minutes" in response.text
    assert response.headers["retry-after"] == "60"

    api = httpx.post(no_relay_site + "/api/auth/code", json={"email": "alice@example.org"})
    assert api.status_code == 503 and api.headers["content-type"] == "application/problem+json"
    assert api.json()["type"] == "urn:civitas:problem:mail-unavailable"


def test_forms_posted_without_a_session_or_from_elsewhere_answer_pages(served, operator_headers, inbox):
    _, base = served
    httpx.post(base + "/api/polls", json={"name": "test-poll"}, headers=operator_headers).raise_for_status()
    vote = {"candidate": "bob@example.org", "csrf": "x"}

    unsigned = httpx.post(base + "/polls/test-poll/vote", data=vote, headers=BROWSER)
    assert unsigned.status_code == 401 and heading(unsigned.text) == "Sign in first"
    assert '<a href="/signin">Sign in</a>' in unsigned.text

    with httpx.Client(base_url=base, headers=BROWSER) as browser:  # a signed-in browser, posting a forged form
        sent = browser.post("/signin", data={"email": "alice@example.org"} | signin_form(browser))
        challenge = re.search(r'name="challenge" value="([^"]+)"', sent.text)[1]
        csrf = re.search(r'name="csrf" value="([^"]+)"', sent.text)[1]
        browser.post("/signin/code", data={"challenge": challenge, "code": inbox.code_for("alice@example.org"),
                                           "csrf": csrf})
        forged = browser.post("/polls/test-poll/vote", data=vote)
        assert forged.status_code == 403 and heading(forged.text) == "This form is out of date"
        assert "reload the page" in forged.text

        too_long = browser.post("/signin", data={"email": "a" * 300 + "@example.org"} | signin_form(browser))
        assert too_long.status_code == 422 and "<strong>email</strong>" in too_long.text

    assert httpx.post(base + "/polls/test-poll/vote", data=vote).headers["content-type"] == "application/problem+json"


def test_in_chromium_a_failed_sign_in_form_shows_the_page(no_relay_site, browser):
    page = browser.new_page()
    page.goto(no_relay_site + "/signin")
    page.fill("input[name=email]", "alice@example.org")
    page.click("text=Send me a code")
    assert page.text_content("h2") == "Sign in"  # the form again, to try once more
    assert "we could not send the mail just now" in page.text_content("[role=alert]")
    assert page.url == no_relay_site + "/signin"
