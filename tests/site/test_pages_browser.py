"""The web pages in a real headless browser (Debian's Chromium driven by Playwright), as a voter uses them,
from the embedded site and from a gateway in front of the services running on their own."""

from __future__ import annotations

import time

import httpx
import pytest

from civitas_gateway.auth import AuthSettings

from civitas.testing import sign_in_in_browser

from .conftest import OPERATOR_TOKEN


@pytest.fixture(params=["embedded", "distributed"])
def site_url(request, smtp, tmp_path) -> str:
    """The site's pages: from `civitas up`'s app, or from a gateway in front of registry, polls and counter."""
    if request.param == "embedded":
        return request.getfixturevalue("served")[1]
    broker = request.getfixturevalue("noida_broker")
    auth = AuthSettings(HOME=tmp_path / "gateway", SITE="localhost", SMTP_HOST="127.0.0.1", SMTP_PORT=smtp[1],
                        SMTP_TIMEOUT=30, OPERATOR_TOKEN=OPERATOR_TOKEN)
    base = request.getfixturevalue("threaded_services")(broker.settings(), auth)["gateway"]
    deadline = time.monotonic() + 30
    while httpx.get(base + "/ready").status_code != 200:
        assert time.monotonic() < deadline, httpx.get(base + "/ready").text
        time.sleep(0.05)
    return base


def test_a_voter_signs_in_registers_votes_and_sees_the_count(site_url, browser, inbox, operator_headers, tmp_path):
    base = site_url
    httpx.post(base + "/api/polls", json={"name": "test-poll", "title": "Test poll"}, headers=operator_headers).raise_for_status()
    page = browser.new_page()
    sign_in_in_browser(page, base, inbox, "alice@example.org")
    assert "signed in as alice@example.org" in page.text_content("[role=status]")
    page.fill("form[action='/me/residence'] input[name=value]", "1 Main St, Town A1000")
    page.click("form[action='/me/residence'] button")
    assert "residence" in page.text_content("[role=status]")

    page.goto(base + "/polls/test-poll")
    page.fill("input[name=candidate]", "bob@example.org")
    page.click("button:has-text('Vote')")
    assert "you now vote for bob@example.org" in page.text_content("[role=status]")
    assert "bob@example.org" in page.text_content("#my-vote")

    httpx.post(base + "/api/records/list", headers=operator_headers).raise_for_status()
    httpx.post(base + "/api/records/count", headers=operator_headers).raise_for_status()
    page.reload()
    assert "held by bob@example.org" in page.text_content("main, body")
    assert page.locator("#ranking svg rect.bar").count() == 1
    assert page.locator("#cascade svg line.edge.mine").count() == 1  # alice's own path, highlighted
    assert page.locator("#cascade svg g.node.mine").count() == 2
    page.screenshot(path=str(tmp_path / "poll.png"), full_page=True)


def test_a_wrong_code_is_said_plainly_and_signs_nobody_in(served, browser, inbox):
    _, base = served
    page = browser.new_page()
    page.goto(base + "/signin")
    page.fill("input[name=email]", "carol@example.org")
    page.click("text=Send me a code")
    page.fill("input[name=code]", "000000" if inbox.code_for("carol@example.org") != "000000" else "111111")
    page.click("button:has-text('Sign in')")
    assert "code" in page.text_content("[role=alert]").lower()
    page.goto(base + "/me")
    assert page.url.startswith(base + "/signin")


def test_a_form_posted_from_elsewhere_is_refused(served, inbox):
    _, base = served
    response = httpx.post(base + "/polls/test-poll/vote", data={"candidate": "bob@example.org", "csrf": "x"})
    assert response.status_code == 401


def test_no_page_breaks_its_content_security_policy(served, browser, inbox, operator_headers):
    _, base = served
    httpx.post(base + "/api/polls", json={"name": "test-poll"}, headers=operator_headers).raise_for_status()
    page = browser.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    sign_in_in_browser(page, base, inbox, "alice@example.org")
    page.fill("form[action='/me/residence'] input[name=value]", "1 Main St, Town A1000")
    page.click("form[action='/me/residence'] button")
    page.goto(base + "/polls/test-poll")
    page.fill("input[name=candidate]", "bob@example.org")
    page.click("button:has-text('Vote')")
    httpx.post(base + "/api/records/list", headers=operator_headers).raise_for_status()
    httpx.post(base + "/api/records/count", headers=operator_headers).raise_for_status()
    page.goto(base + "/polls/test-poll")
    assert page.locator("#ranking svg rect.bar").count() == 1  # the charts drawn under the policy
    assert page.evaluate("getComputedStyle(document.body).maxWidth") != "none"  # site.css applies
    for path in ("/me", "/neighbours?q=alice", "/records", "/"):
        page.goto(base + path)
    assert not violations, violations


def test_another_site_cannot_sign_the_browser_in_as_someone_else(served, browser, inbox):
    """Login CSRF: a page elsewhere posts the attacker's own challenge and code to /signin/code."""
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse

    from civitas_kernel.testing.serving import ServerThread

    _, base = served
    challenge = httpx.post(base + "/api/auth/code", json={"email": "mallory@example.org"}).json()["challenge"]
    code = inbox.code_for("mallory@example.org")
    elsewhere = FastAPI()

    @elsewhere.get("/", response_class=HTMLResponse)
    def trap() -> str:
        return (f'<form method="post" action="{base}/signin/code"><input type="hidden" name="challenge" value="{challenge}">'
                f'<input type="hidden" name="code" value="{code}"><button>Win a prize</button></form>')

    server = ServerThread()
    with server.serving(elsewhere):
        page = browser.new_page()
        page.goto(f"http://localhost:{server.port}/")  # another site than 127.0.0.1
        page.click("button")
        page.wait_for_load_state()
        page.goto(base + "/me")
    assert page.url.startswith(base + "/signin"), "the browser was signed in as the attacker"
    assert httpx.post(base + "/api/auth/session", json={"challenge": challenge, "code": code}).status_code == 200


def test_a_voter_ends_a_stolen_session_and_turns_two_step_sign_in_on_from_the_account_page(served, browser, inbox):
    import pyotp

    _, base = served
    stolen = httpx.post(base + "/api/auth/code", json={"email": "alice@example.org"}).json()["challenge"]
    thief = httpx.post(base + "/api/auth/session", json={"challenge": stolen,
                                                         "code": inbox.code_for("alice@example.org")}).json()["token"]
    page = browser.new_page()
    sign_in_in_browser(page, base, inbox, "alice@example.org")
    page.goto(base + "/account")
    assert page.locator("#sessions tr").count() == 3  # a heading and two sessions
    page.click("form[action='/account/sessions/end'] button:has-text('End every other session')")
    assert "ended 1 session" in page.text_content("[role=status]")
    assert httpx.get(base + "/api/auth/sessions", headers={"Authorization": f"Bearer {thief}"}).status_code == 401

    page.click("button:has-text('Turn on two-step sign-in')")
    page.fill("input[name=code]", inbox.code_for("alice@example.org"))
    page.click("button:has-text('Continue')")
    authenticator = pyotp.TOTP(page.text_content("#totp-secret"))
    page.fill("input[name=totp]", authenticator.now())
    page.click("button:has-text('Turn on')")
    assert "two-step sign-in is on" in page.text_content("[role=status]")
    assert "Two-step sign-in is on" in inbox.last_to("alice@example.org")["Subject"]
