"""A change proposal's discussion on the embedded site, over HTTP as the pages and the API send it: the group is found
by its subject and its proposer (a group anyone else makes first for that subject is ignored), opened when the
proposal is made, and voters reply to the diff's hunks from the proposal page; a reply on a revision that has since
changed says so; what the rules refuse is a page saying why, writing nothing."""

from __future__ import annotations

import re
from html import unescape

from .change_town import HTML, make_patch, town  # noqa: F401 - fixtures

HELLO = {"pages/app.py": 'def hello():\n    return "hi"\n'}


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def form(client, path: str, **fields: str):
    return client.post(path, data={"csrf": client.csrf, **fields}, headers=HTML, follow_redirects=False)


def squat(client, subject: str) -> str:
    """A group another voter makes for the subject before its owner: named and subjected as the real one would be."""
    made = client.post("/api/drafts/groups", json={"name": f"Discussion of {subject}", "subject": subject,
                                                   "others_weight": "1", "default_score": "1"})
    assert made.status_code == 201, made.text
    return made.json()["data"]["id"]


def hunk_form(page: str) -> dict[str, str]:
    """The hidden fields of the first hunk's reply form on a proposal page."""
    found = re.search(r'<form method="post" action="(/changes/\d+/hunks/reply)">(.*?)</form>', page, re.S)
    assert found, "no reply form under a hunk"
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', found[2]))
    return {k: unescape(v) for k, v in fields.items() if k != "csrf"} | {"action": found[1]}


def test_the_proposal_opens_its_discussion_and_a_squatters_group_is_ignored(town, tmp_path):
    site, clock, c = town
    squatted = squat(c["dave"], "change:1")  # before proposal 1 exists: dave guesses its number
    patch = make_patch(site.live_repo.path, tmp_path, HELLO)
    proposed = c["alice"].post("/api/changes", json={"title": "Say hello", "patch": patch.decode()})
    assert proposed.status_code == 201, proposed.text
    groups = c["bob"].get("/api/drafts/groups").json()
    real = [g for g in groups if g["subject"] == "change:1" and g["founder"] == "alice@example.org"]
    assert len(real) == 1 and real[0]["id"] != squatted and real[0]["others_members_weight"] == 1
    found = c["bob"].get("/drafts/discuss?subject=change:1", headers=HTML, follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"] == f"/drafts/groups/{real[0]['id']}"
    page = c["bob"].get("/changes/1", headers=HTML).text
    assert 'href="/drafts/discuss?subject=change:1"' in page
    # the subject is fixed by the first version: no later version gives a group one
    later = c["dave"].post("/api/shell", json={"line": f"drafts group set {squatted[:10]} --subject change:3"})
    assert later.status_code == 400 and "unknown option --subject" in later.json()["detail"]


def test_a_proposal_made_elsewhere_is_opened_only_by_its_proposer(town, tmp_path):
    site, clock, c = town
    patch = make_patch(site.live_repo.path, tmp_path, HELLO)
    with site.lock:  # proposed by the shell: no page or API opened a discussion
        site.change.propose("alice@example.org", patch, "Say hello")
    squat(c["dave"], "change:1")
    waiting = c["bob"].get("/drafts/discuss?subject=change:1", headers=HTML)
    assert waiting.status_code == 200 and "It opens when alice@example.org opens it" in text(waiting.text)
    assert "Start the discussion" not in waiting.text
    offered = c["alice"].get("/drafts/discuss?subject=change:1", headers=HTML)
    assert "Start the discussion" in offered.text
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', offered.text.split('id="open-discussion"')[1]))
    del fields["csrf"]
    opened = form(c["alice"], "/drafts/groups", **{k: unescape(v) for k, v in fields.items()})
    assert opened.status_code == 303
    found = c["bob"].get("/drafts/discuss?subject=change:1", headers=HTML, follow_redirects=False)
    assert found.headers["location"] == opened.headers["location"].split("?")[0]
    # bob, not the proposer, replies to a hunk before any discussion: the page says who opens it
    with site.lock:
        hi = make_patch(site.live_repo.path, tmp_path, {"pages/hi.py": "def hi():\n    pass\n"}, name="hi")
        site.change.propose("carol@example.org", hi, "Say hi")
    page = c["bob"].get("/changes/2", headers=HTML).text
    assert "its proposer has not opened yet" in text(page) and "Reply to this hunk" not in page
    fields = hunk_form(c["carol"].get("/changes/2", headers=HTML).text)  # the proposer's page offers it
    before = site.log.head("draft").seq
    refused = form(c["bob"], fields.pop("action"), **fields, text="Why hi?")
    assert refused.status_code == 404 and "carol@example.org has not opened the discussion" in text(refused.text)
    assert site.log.head("draft").seq == before


def test_old_discussions_named_by_their_proposer_still_count(town, tmp_path):
    site, clock, c = town
    patch = make_patch(site.live_repo.path, tmp_path, HELLO)
    with site.lock:
        site.change.propose("alice@example.org", patch, "Say hello")
    old = c["alice"].post("/api/drafts/groups", json={"name": "Discussion of change:1", "others_weight": "1",
                                                      "default_score": "1"}).json()["data"]["id"]  # no subject
    found = c["bob"].get("/drafts/discuss?subject=change:1", headers=HTML, follow_redirects=False)
    assert found.headers["location"] == f"/drafts/groups/{old}"


def test_voters_reply_to_hunks_and_a_reply_on_an_earlier_revision_says_so(town, tmp_path):
    site, clock, c = town
    patch = make_patch(site.live_repo.path, tmp_path, HELLO)
    proposed = form(c["alice"], "/changes", title="Say hello")  # no patch: refused, and no discussion either
    assert proposed.status_code == 400 and not c["bob"].get("/api/drafts/groups").json()
    proposed = c["alice"].post("/changes", data={"csrf": c["alice"].csrf, "title": "Say hello"},
                               files={"patch": ("hello.patch", patch)}, headers=HTML, follow_redirects=False)
    assert proposed.status_code == 303, proposed.text
    page = c["bob"].get("/changes/1", headers=HTML).text
    fields = hunk_form(page)
    first_hash = fields["revision"]
    assert fields["file"] == "pages/app.py" and fields["hunk"].startswith("@@ -0,0 +1,2 @@")
    action = fields.pop("action")
    replied = form(c["bob"], action, **fields, text="Why not hello()?\n\nAnd a docstring.")
    assert replied.status_code == 303 and replied.headers["location"].endswith(f"#{fields['target']}")
    page = c["carol"].get("/changes/1", headers=HTML).text
    row = page.split(f'id="{fields["target"]}"')[1].split("</tr>")[0]
    assert "Why not hello()?" in row and "And a docstring." in row and "bob" in row
    assert "earlier revision" not in row
    reply = c["carol"].get("/api/drafts/posts/" + re.search(r'/drafts/posts/([0-9a-f]{64})', row)[1]).json()
    assert reply["anchor"] == {"file": "pages/app.py", "hunk": fields["hunk"], "revision": first_hash}
    post_page = text(c["carol"].get(f"/drafts/posts/{reply['post']}", headers=HTML).text)
    assert f"In answer to pages/app.py {fields['hunk']} in revision {first_hash[:12]} of proposal 1" in post_page
    sql = ("SELECT g.subject, g.founder, p.author, p.anchor_file, p.anchor_hunk, p.anchor_revision FROM posts p "
           "JOIN groups g ON g.id = p.group_id WHERE p.anchor_file IS NOT NULL")
    rows = c["carol"].post("/api/query", json={"sql": sql + " AND p.author = 'bob@example.org'"}).json()["rows"]
    assert rows == [["change:1", "alice@example.org", "bob@example.org", "pages/app.py", fields["hunk"], first_hash]]

    # a reply to the file whole (no hunk) shows under the file
    whole = form(c["carol"], action, **(fields | {"hunk": "", "target": "file-1", "key": "carol-file"}),
                 text="Name it greetings.py?")
    assert whole.status_code == 303 and whole.headers["location"].endswith("#file-1")
    page = c["bob"].get("/changes/1", headers=HTML).text
    assert "Name it greetings.py?" in page.split('id="file-1"')[1].split("<details")[0]
    assert "Name it greetings.py?" not in page.split(f'id="{fields["target"]}"')[1].split("</tr>")[0]

    # bad input: a hunk this revision does not have, an empty reply, no session: refused, nothing written
    before = site.log.head("draft").seq
    missing = form(c["bob"], action, **(fields | {"hunk": "@@ -9,9 +9,9 @@"}), text="Here?")
    assert missing.status_code == 404 and "has no hunk" in text(missing.text)
    empty = form(c["bob"], action, **fields, text="  \n\n ")
    assert empty.status_code == 400 and "at least one paragraph" in text(empty.text)
    forged = c["bob"].post(action, data={**fields, "csrf": "forged", "text": "x"}, headers=HTML,
                           follow_redirects=False)
    assert forged.status_code in (401, 403)
    assert site.log.head("draft").seq == before

    # alice revises the same hunk: bob's reply stays under it, saying it answered an earlier revision
    second = make_patch(site.live_repo.path, tmp_path, {"pages/app.py": 'def hello():\n    return "hello"\n'},
                        name="second")
    revised = c["alice"].post("/api/changes/1/revisions", json={"patch": second.decode()})
    assert revised.status_code == 201, revised.text
    page = c["carol"].get("/changes/1", headers=HTML).text
    assert hunk_form(page)["revision"] != first_hash
    row = page.split(f'id="{fields["target"]}"')[1].split("</tr>")[0]
    assert "Why not hello()?" in row and f"on an earlier revision ({first_hash[:12]})" in text(row)

    # a reply voted down by the discussion is counted, not drawn
    pid = reply["post"]
    assert c["alice"].put(f"/api/drafts/posts/{pid}/vote", json={"vote": "down"}).status_code == 200
    page = c["carol"].get("/changes/1", headers=HTML).text
    assert "Why not hello()?" not in page and "1 reply to its hunks hidden" in text(page)
