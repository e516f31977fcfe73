"""The drafts pages in Chromium, as voters use them: a voter starts a group, another joins and posts, the first
votes a paragraph down and both see the scores change; a stranger's forbidden weight change is an HTML page saying
why and what to do; a poll's candidate that is a draft links to it."""

from __future__ import annotations

import httpx
import pytest

from civitas.testing import sign_in_in_browser


@pytest.mark.slow
def test_voters_draft_vote_a_paragraph_down_and_a_stranger_is_refused(served, browser, inbox, operator_headers):
    _, base = served
    alice, bob, mallory = (browser.new_context().new_page() for _ in range(3))
    sign_in_in_browser(alice, base, inbox, "alice@example.org")
    alice.click("nav a:has-text('Drafts')")
    alice.fill("#create-group input[name=name]", "Town hall")
    alice.fill("#create-group input[name=weight]", "3")
    alice.click("#create-group button")
    assert "created group" in alice.text_content("[role=status]")
    assert alice.text_content("#group-name") == "Town hall"
    group_url = alice.url.split("?")[0]
    assert "weight 3" in alice.text_content("#my-membership")

    sign_in_in_browser(bob, base, inbox, "bob@example.org")
    bob.goto(base + "/drafts")
    bob.click("#groups a:has-text('Town hall')")
    bob.click("#join button")
    assert "2 members" in bob.text_content("#group-kind")
    bob.fill("#new-post textarea", "Plant trees on the square.\n\nCut the old oaks first.")
    bob.click("#new-post button")
    assert "posted" in bob.text_content("[role=status]")
    post_url = bob.url.split("?")[0]
    scores = bob.locator("#versions .paragraph .score")
    assert scores.all_text_contents() == ["0", "0"]
    assert bob.text_content("#post-score .score") == "1"  # posting is bob's +1

    alice.goto(group_url)
    assert "Plant trees on the square." in alice.text_content("#posts")
    alice.click("#posts article a")  # to the post
    alice.click("[data-paragraph] >> nth=1 >> button[aria-label='vote down paragraph 2']")
    assert "voted down on paragraph" in alice.text_content("[role=status]")
    assert alice.locator("#versions .paragraph .score").all_text_contents() == ["0", "-3"]
    bob.goto(post_url)
    assert bob.locator("#versions .paragraph .score").all_text_contents() == ["0", "-3"]
    assert bob.text_content("#post-score .score") == "1"  # a paragraph's votes never count toward the post
    alice.click("#post-score button[aria-label='vote down this post']")
    assert alice.text_content("#post-score .score") == "-2"  # bob's 1 - alice's 3: hidden now
    bob.goto(group_url)
    assert "No posts shown yet" in bob.text_content("#posts")

    sign_in_in_browser(mallory, base, inbox, "mallory@example.org")
    mallory.goto(group_url)
    mallory.click("#join button")
    row = mallory.locator("#members tr[data-voter='alice@example.org']")
    row.locator("input[name=weight]").fill("0")
    row.locator("button:has-text('Change')").click()
    assert mallory.locator("#problem").get_attribute("data-status") == "403"
    assert "weight" in mallory.text_content("#detail")
    assert "Ask a member who weighs more" in mallory.text_content("#advice")
    mallory.click("#links a:has-text('Back')")
    assert mallory.url.split("?")[0] == group_url
    assert mallory.text_content("#members tr[data-voter='alice@example.org'] .weight") == "3"  # nothing changed

    # the draft as a normative poll's candidate: the poll page links the post
    uri = bob.goto(post_url) and bob.text_content("#draft-uri")
    httpx.post(base + "/api/polls", json={"name": "trees", "title": "Trees", "kind": "normative"},
               headers=operator_headers).raise_for_status()
    bob.goto(base + "/polls/trees")
    bob.fill("input[name=candidate]", uri)
    bob.click("button:has-text('Vote')")
    bob.click("#my-vote a:has-text('read the draft')")
    assert bob.url.split("?")[0] == post_url
