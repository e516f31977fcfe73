"""The voters' pages in Chromium: my standing on my registration page, a neighbour's public page, and an archive
downloaded from the records page and audited with the command printed beside it."""

from __future__ import annotations

import httpx

from civitas.cli import main
from civitas.exit_status import ExitStatus
from civitas.testing import sign_in_in_browser


def test_a_voter_sees_who_votes_for_them_and_audits_the_count_they_download(served, browser, inbox, operator_headers,
                                                                           tmp_path, monkeypatch, capsys):
    site, base = served
    httpx.post(base + "/api/polls", json={"name": "test-poll", "title": "Test poll"}, headers=operator_headers).raise_for_status()
    page = browser.new_page(accept_downloads=True)
    sign_in_in_browser(page, base, inbox, "carol@example.org")
    page.fill("form[action='/me/residence'] input[name=value]", "1 Main St, Town A1000")  # on the list, so cast
    page.click("form[action='/me/residence'] button")
    page.goto(base + "/polls/test-poll")
    page.fill("input[name=candidate]", "bob@example.org")
    page.click("button:has-text('Vote')")
    for kind in ("list", "count"):
        httpx.post(f"{base}/api/records/{kind}", headers=operator_headers).raise_for_status()

    page.goto(base + "/voters/bob@example.org")
    assert "carol@example.org started voting for bob@example.org" in page.text_content("#notices")
    assert "Directly for bob@example.org in the reported count: carol@example.org" in " ".join(
        page.text_content("#votes").split())
    page.click("#votes a:has-text('carol@example.org')")  # from bob's page to carol's
    assert page.text_content("h2") == "carol@example.org"

    page.goto(base + "/records")
    command = page.text_content("#records-count code.audit")
    with page.expect_download() as download:
        page.click("#records-count a:has-text('.tar')")
    monkeypatch.chdir(tmp_path)
    download.value.save_as(tmp_path / download.value.suggested_filename)
    assert command.split()[2] == download.value.suggested_filename
    assert main(command.split()[1:]) == ExitStatus.SUCCESS
    assert "matches byte for byte" in capsys.readouterr().out
