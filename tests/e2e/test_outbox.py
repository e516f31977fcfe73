"""A newcomer's first minutes: `civitas up` with no mail relay, signing in through the local outbox in Chromium;
and a site with a relay, where no outbox exists."""

from __future__ import annotations

import re

import httpx


def test_a_newcomer_signs_in_through_the_outbox(up, browser):
    site = up()
    page = browser.new_page()
    page.goto(site.base + "/signin")
    page.fill("input[name=email]", "alice@example.org")
    page.click("text=Send me a code")
    assert "outbox" in page.text_content("#outbox-note")

    mail = browser.new_page()  # the outbox, as the note's link opens it: in a tab of its own
    mail.goto(site.base + "/outbox")
    assert "CIVITAS_SMTP_HOST" in mail.text_content("#why")  # the page says why it exists
    mail.click("#messages a:has-text('sign-in code')")
    code = re.search(r"^\s+(\d{6})\s*$", mail.text_content("#body"), re.M)[1]

    page.fill("input[name=code]", code)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(site.base + "/me*")
    assert "signed in as alice@example.org" in page.text_content("[role=status]")

    out = site.stop()
    assert f"mail is kept in {site.home / 'outbox'}" in out
    assert re.search(rf"sign-in code for alice@example\.org: {code} \(works once, within 10 minutes", out)
    assert len(list((site.home / "outbox" / "new").iterdir())) == 1  # a Maildir: one file per message


def test_with_a_relay_there_is_no_outbox(up, smtp):
    inbox, port = smtp
    site = up(CIVITAS_SMTP_HOST="127.0.0.1", CIVITAS_SMTP_PORT=str(port))
    sent = httpx.post(site.base + "/api/auth/code", json={"email": "alice@example.org"})
    assert sent.status_code == 202, sent.text
    code = inbox.code_for("alice@example.org")  # the code went out through the relay

    assert httpx.get(site.base + "/outbox").status_code == 404
    assert "Outbox" not in httpx.get(site.base + "/signin").text
    out = site.stop()
    assert code not in out and "/outbox" not in out
    assert not (site.home / "outbox").exists()
