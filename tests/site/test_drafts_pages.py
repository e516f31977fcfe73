"""The drafts pages and their forms over real HTTP on the embedded site, as a browser sends them (session cookie and
form token): threads, alternatives side by side, replies to a paragraph, a subject's discussion, and each refused form
answered with a page saying why and what to do, changing nothing."""

from __future__ import annotations

import re
from html import unescape

import httpx
import pytest

from civitas_gateway.page_kit import COOKIE, csrf_for

HTML = {"Accept": "text/html"}


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


class Browser:
    """One voter's cookie and form token, posting forms as the pages do."""

    def __init__(self, base: str, token: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=30, cookies={COOKIE: token}, headers=HTML)
        self.csrf = csrf_for(token)

    def form(self, path: str, **fields: str) -> httpx.Response:
        return self.http.post(path, data={"csrf": self.csrf, **fields})

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)


@pytest.fixture
def browsers(served, sign_in):
    _, base = served
    with httpx.Client(base_url=base, timeout=30) as client:
        found = {name: Browser(base, sign_in(client, f"{name}@example.org")) for name in ("alice", "bob", "mallory")}
    yield found
    for b in found.values():
        b.http.close()


def test_posts_threads_alternatives_and_paragraph_replies(browsers):
    alice, bob = browsers["alice"], browsers["bob"]
    made = alice.form("/drafts/groups", name="Town hall", weight="3", others_weight="1", default_score="0")
    assert made.status_code == 303
    group = made.headers["location"].split("?")[0]
    assert bob.form(f"{group}/join").status_code == 303
    posted = bob.form(f"{group}/posts", text="Plant trees.\n\nMany of them.\r\n\r\nOaks, mostly.")
    post = posted.headers["location"].split("?")[0]
    page = text(bob.get(post).text)
    assert "Plant trees." in page and "Oaks, mostly." in page
    pid = post.rsplit("/", 1)[1]
    hashes = re.findall(r'data-paragraph="([0-9a-f]+)"', bob.get(post).text)
    assert len(hashes) == 3

    replied = alice.form(f"{post}/reply", text="Which trees?", paragraph=hashes[0])
    assert replied.status_code == 303
    alternative = alice.form(f"{post}/amend", text="Plant trees.\n\nMany of them.\n\nLimes, mostly.")
    assert "proposed alternative" in unescape(alternative.headers["location"].replace("%20", " "))
    shown = bob.get(post).text
    assert len(re.findall(r'class="version[ "]', shown)) == 2  # the text and alice's alternative, side by side
    assert "Alternative by alice" in text(shown) and "Limes, mostly." in text(shown)
    assert "Which trees?" in text(shown) and "on a paragraph" in text(shown)

    threaded = bob.get(f"{group}?view=threaded").text
    start = threaded.index(f'data-post="{pid}"')
    beneath = threaded.index('<div class="thread">', start)
    assert start < beneath < threaded.index("Which trees?")  # the reply beneath its post
    assert threaded.count('class="post-card') == 2
    assert "Which trees?" in text(bob.get(group).text)  # flat: every post, replies too

    voted = alice.form(f"/drafts/posts/{pid}/vote", vote="down", group=group.rsplit("/", 1)[1], back_to=group)
    assert voted.headers["location"].startswith(group + "?message=")
    # the text scores 1 - 3 now, alice's alternative 3 (her own +1): the group shows the post as the alternative
    listed = text(bob.get(group).text)
    assert "(showing an alternative)" in listed and "Limes, mostly." in listed and "Oaks, mostly." not in listed


def test_each_refused_form_is_a_page_with_the_reason_and_what_to_do(browsers):
    alice, bob, mallory = browsers["alice"], browsers["bob"], browsers["mallory"]
    group = alice.form("/drafts/groups", name="Board", weight="5", others_weight="1").headers["location"].split("?")[0]
    private = alice.form("/drafts/groups", name="Secret", private="1").headers["location"].split("?")[0]
    bob.form(f"{group}/join")
    post = bob.form(f"{group}/posts", text="Meet on Mondays.").headers["location"].split("?")[0]
    cases = [  # (who, path, fields, status, words of the advice)
        (bob, f"{group}/members/alice@example.org/weight", {"weight": "0"}, 403, "Ask a member who weighs more"),
        (bob, f"{group}/members", {"member": "carol@example.org", "nickname": "carol", "weight": "9"}, 403,
         "no greater than your own"),
        (bob, f"{group}/settings", {"name": "Mine now"}, 403, "highest weight"),
        (mallory, f"{post}/vote", {"vote": "down"}, 403, "Only members vote"),
        (mallory, f"{private}/posts", {"text": "Spam."}, 404, "Check the link"),
        (mallory, f"{private}/join", {}, 404, "Check the link"),
        (bob, f"{group}/posts", {"text": "x" * 100_001}, 400, "correct what the message says"),
        (bob, "/drafts/posts/abcdef123456/vote", {"vote": "up"}, 404, "Check the link"),
        (bob, f"{group}/members/alice@example.org/weight", {"weight": "inf"}, 400, "correct"),
    ]
    for who, path, fields, status, advice in cases:
        answer = who.form(path, **fields)
        assert answer.status_code == status, (path, answer.text[:300])
        assert "text/html" in answer.headers["content-type"]
        assert advice in text(answer.text), (path, text(answer.text))
        assert re.search(r'<p id="detail">.+</p>', answer.text), path
        assert 'href="/drafts/' in answer.text  # the way back to the form's page
    renamed = alice.form(f"{group}/members/bob@example.org/nickname", nickname="Robert")
    assert renamed.status_code == 303 and "Robert" in text(alice.get(group).text)
    members = httpx.get(str(alice.http.base_url) + "/api/drafts/groups/Board/members").json()["members"]
    assert {m["voter"]: m["weight"] for m in members} == {"alice@example.org": 5, "bob@example.org": 1}
    forged = httpx.post(str(bob.http.base_url) + f"{group}/join", data={"csrf": "forged"},
                        cookies={COOKIE: "x"}, headers=HTML)
    assert forged.status_code in (401, 403)


def test_a_subject_nobody_owns_has_no_discussion_to_start(browsers):
    """change:7 is no proposal here: no owner, so no group can be its discussion (test_discussions.py has the rest)."""
    page = browsers["alice"].get("/drafts/discuss?subject=change:7")
    assert page.status_code == 404 and "change:ID" in text(page.text)
    assert "Start the discussion" not in page.text
