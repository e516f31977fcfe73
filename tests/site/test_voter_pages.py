"""What voters asked for on their pages: who trusts and doubts them, their trust level explained, whose votes reach
them in each poll, notices when someone starts or stops voting for them (page and mail), and the records page's
archives, each audited by the command shown beside it."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient

from civitas.cli import main
from civitas.exit_status import ExitStatus
from civitas.shell import run_command
from civitas_kernel.voter_command import split_line

from civitas_gateway.page_kit import COOKIE

POLL = "test-poll"


@pytest.fixture
def town(make_site_app, sign_in):
    """A small town: registrar -> alice (2 edges); alice and carol trust bob, dave doubts him; in the poll carol
    votes for bob and dave for carol, so dave's vote reaches bob through carol. Returns (site, client, run)."""
    site, app = make_site_app()

    def run(line: str) -> str:
        with site.lock:
            return run_command(site, split_line(line)).text

    with site.lock:  # all of this is in the log before the site serves: history, whose notices are never mailed
        site.polls.create(POLL, title="Test poll")
        for name in ("alice", "bob", "carol", "dave", "eve"):
            run(f"{name}@example.org register set residence 1 Main St, Town A1000")
        site.registry.registrar_trust("alice@example.org", 2)
    run("alice@example.org register trust bob@example.org")
    run("alice@example.org register trust carol@example.org")
    run("carol@example.org register trust bob@example.org")
    run("dave@example.org register doubt bob@example.org never met him")
    run(f"carol@example.org {POLL} vote bob@example.org")
    run(f"dave@example.org {POLL} vote carol@example.org")
    for kind in ("list", "count"):
        site.compile(kind)
    with TestClient(app, raise_server_exceptions=False) as client:
        client.cookies.set(COOKIE, sign_in(client, "bob@example.org"))
        yield site, client, run


def section(html: str, name: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", re.search(rf'<section id="{name}">(.*?)</section>', html, re.S)[1]))


def words(text: str) -> str:
    return " ".join(text.split())


def test_my_page_says_who_trusts_and_doubts_me_and_explains_my_level(town):
    _, client, _ = town
    page = client.get("/me").text
    assert words(section(page, "trusted-by")) == "Who trusts you alice@example.org carol@example.org"
    assert words(section(page, "doubted-by")) == "Who doubts you dave@example.org : never met him"
    level = words(section(page, "trust-level"))
    # alice is at 2 (the registrar's two edges), carol at 1 (alice alone); bob, trusted by both, at 1.
    assert "In the reported voter list your trust level is 1 ." in level
    assert "2 voters who trust you count: alice@example.org (level 2), carol@example.org (level 1)." in level
    assert "So your trust level is 1: 0 primary + 2 at level 1 or above = 2, at least 1." in level
    assert "Level 2 would need 0 primary + sources at level 2 or above to reach 2: you have 1, so 1 more such" in level


def test_my_page_says_who_votes_for_me_directly_and_through_the_cascade(town):
    _, client, _ = town
    votes = words(section(client.get("/me").text, "votes"))
    assert "Directly for you in the reported count: carol@example.org ." in votes
    assert "Through the cascade: dave@example.org (via carol@example.org). 2 votes reach you" in votes
    poll = client.get(f"/polls/{POLL}").text
    assert words(re.sub(r"<[^>]+>", "", re.search(r'<p id="reaching">(.*?)</p>', poll, re.S)[1])) == (
        "2 votes reach you: carol@example.org, dave@example.org (via carol@example.org).")


def test_a_vote_for_me_that_is_not_cast_is_shown_with_the_reason(town):
    site, client, run = town
    run(f"frank@example.org {POLL} vote bob@example.org")  # frank never registered
    site.compile("count")
    votes = words(section(client.get("/me").text, "votes"))
    assert "Votes for you that are not cast: frank@example.org (not on the voter list)." in votes


def test_a_voters_public_page_shows_the_same_to_anyone(town):
    _, client, _ = town
    client.cookies.clear()  # nobody signed in
    page = client.get("/voters/Bob@Example.org").text
    assert "<h2>bob@example.org</h2>" in page
    assert words(section(page, "trusted-by")) == "Who trusts bob@example.org alice@example.org carol@example.org"
    assert "dave@example.org : never met him" in words(section(page, "doubted-by"))
    assert "bob@example.org's trust level is 1" in words(section(page, "trust-level"))
    assert "Through the cascade: dave@example.org (via carol@example.org)" in words(section(page, "votes"))
    carol = client.get("/voters/carol@example.org").text
    assert "carol@example.org votes for bob@example.org" in words(section(carol, "votes"))
    assert client.get("/voters/not-an-address").status_code == 400


def test_starting_and_stopping_to_vote_for_me_is_a_notice_on_my_page_and_by_mail(town, inbox):
    _, client, run = town
    run(f"eve@example.org {POLL} vote bob@example.org")
    notices = words(section(client.get("/me").text, "notices"))
    assert "eve@example.org started voting for you in test-poll" in notices
    mail = inbox.last_to("bob@example.org")
    assert mail["Subject"] == "eve@example.org started voting for you in test-poll"
    assert mail["Auto-Submitted"] == "auto-generated"

    run(f"eve@example.org {POLL} vote alice@example.org")
    notices = words(section(client.get("/me").text, "notices"))
    assert notices.index("eve@example.org stopped voting for you") < notices.index("eve@example.org started")
    assert inbox.last_to("bob@example.org")["Subject"] == "eve@example.org stopped voting for you in test-poll"
    assert inbox.last_to("alice@example.org")["Subject"] == "eve@example.org started voting for you in test-poll"
    votes_before = [m["Subject"] for m in inbox.messages if "voting for" in m["Subject"]]
    assert len(votes_before) == 3  # history (carol's and dave's votes, before the site served) is not mailed
    client.get("/me")
    assert [m["Subject"] for m in inbox.messages if "voting for" in m["Subject"]] == votes_before  # each mailed once


def test_a_vote_for_an_address_nobody_registered_mails_nobody(town, inbox):
    _, client, run = town
    run(f"eve@example.org {POLL} vote stranger@example.net")
    client.get("/me")
    assert not [m for m in inbox.messages if m["To"] == "stranger@example.net"]


def test_each_archive_downloads_and_the_command_beside_it_audits_it(town, tmp_path, monkeypatch, capsys):
    site, client, _ = town
    page = client.get("/records").text
    links = re.findall(r'<a href="(/records/(list|count)/1/archive\.tar)" download="([^"]+)">', page)
    assert [(kind, name) for _, kind, name in links] == [("list", "localhost-list-000001.tar"),
                                                         ("count", "localhost-count-000001.tar")]
    commands = re.findall(r'<code class="audit">([^<]+)</code>', page)
    assert commands == [f"civitas audit {name} --key {site.key.public_key.hex()}" for _, _, name in links]
    monkeypatch.chdir(tmp_path)
    for (href, _, name), command in zip(links, commands):
        download = client.get(href)
        assert download.status_code == 200 and download.headers["content-type"] == "application/x-tar"
        assert f'filename="{name}"' in download.headers["content-disposition"]
        (tmp_path / name).write_bytes(download.content)
        assert main(command.split()[1:]) == ExitStatus.SUCCESS
        assert "matches byte for byte" in capsys.readouterr().out
    assert client.get("/records/count/9/archive.tar").status_code == 404
