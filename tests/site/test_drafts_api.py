"""The drafts API and the read-only query API of the embedded site, served over real HTTP: signed-in voters found,
join and post in groups and vote on paragraphs; a query reads only the caller's visible rows; every hostile query
is refused or stopped with a problem document of its own type, and the site goes on answering."""

from __future__ import annotations

import httpx
import pytest

HOSTILE = [  # (sql, status, problem type)
    ("SELECT * FROM sqlite_master", 403, "query-refused"),
    ("WITH posts AS (SELECT * FROM sqlite_master) SELECT * FROM posts", 403, "query-refused"),
    ("SELECT * FROM pragma_table_list", 403, "query-refused"),
    ("ATTACH DATABASE ':memory:' AS other", 403, "query-refused"),
    ("DELETE FROM posts", 403, "query-refused"),
    ("SELECT 1; SELECT 2", 400, "query-invalid"),
    ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n", 400, "query-timeout"),
    ("WITH RECURSIVE s(x) AS (SELECT 'a' UNION ALL SELECT x || x FROM s) SELECT length(x) FROM s", 400,
     "query-too-large"),
    ("SELECT printf('%.*c', 2000000000, 'x')", 400, "query-too-large"),
    ("SELECT '" + "x" * 100_000 + "'", 400, "query-too-large"),
]


@pytest.fixture
def voters(served, sign_in):
    _, base = served
    with httpx.Client(base_url=base, timeout=30) as client:
        yield client, {v: {"Authorization": f"Bearer {sign_in(client, v + '@example.org')}"}
                       for v in ("alice", "bob", "mallory")}


def test_voters_draft_through_the_api_and_query_only_what_they_may_see(voters, expect_problem):
    client, who = voters
    made = client.post("/api/drafts/groups", json={"name": "Town hall", "others_weight": "1", "weight": "3"},
                       headers=who["alice"])
    assert made.status_code == 201, made.text
    gid = made.json()["data"]["id"]
    secret = client.post("/api/drafts/groups", json={"name": "Alice's notes", "private": True},
                         headers=who["alice"]).json()["data"]["id"]
    assert client.post(f"/api/drafts/groups/{gid}/join", json={}, headers=who["bob"]).json()["data"]["members"] == 2
    posted = client.post(f"/api/drafts/groups/{gid}/posts", json={"paragraphs": ["Plant trees.", "Many of them."]},
                         headers=who["bob"])
    pid = posted.json()["data"]["post"]
    client.post(f"/api/drafts/groups/{secret}/posts", json={"paragraphs": ["Only mine."]}, headers=who["alice"])
    voted = client.put(f"/api/drafts/posts/{pid}/vote", json={"vote": "down", "paragraph": "2"}, headers=who["alice"])
    assert voted.status_code == 200, voted.text

    shown = client.get(f"/api/drafts/posts/{pid}", headers=who["bob"]).json()
    assert [e["score"] for e in shown["versions"][0]["entries"]] == ["0", "-3"]  # the paragraph, never the post
    assert shown["score"] == "1"
    sql = "SELECT g.name, count(p.id) FROM groups g LEFT JOIN posts p ON p.group_id = g.id GROUP BY g.id ORDER BY 1"
    mine = client.post("/api/query", json={"sql": sql}, headers=who["alice"]).json()
    theirs = client.post("/api/query", json={"sql": sql}, headers=who["mallory"]).json()
    assert ["Alice's notes", 1] in mine["rows"] and ["Town hall", 1] in mine["rows"]
    assert "Alice's notes" not in [row[0] for row in theirs["rows"]] and ["Town hall", 1] in theirs["rows"]
    assert theirs["truncated"] is False

    # a stranger lowering the founder, and a member of weight 1 lowering one of weight 3: refused whole
    client.post(f"/api/drafts/groups/{gid}/join", json={}, headers=who["mallory"])
    refused = client.patch(f"/api/drafts/groups/{gid}/members/alice@example.org", json={"weight": "0"},
                           headers=who["mallory"])
    assert "weight" in expect_problem(refused, 403)["detail"]
    members = client.get(f"/api/drafts/groups/{gid}/members").json()["members"]
    assert {m["voter"]: m["weight"] for m in members}["alice@example.org"] == 3
    expect_problem(client.post("/api/query", json={"sql": "SELECT 1"}), 401)
    expect_problem(client.post(f"/api/drafts/groups/{secret}/posts", json={"paragraphs": ["x"]},
                               headers=who["mallory"]), 404)  # a private group is not there for a stranger


def test_a_paragraph_that_looks_like_an_option_is_text(voters):
    client, who = voters
    gid = client.post("/api/drafts/groups", json={"name": "Dashes"}, headers=who["alice"]).json()["data"]["id"]
    other = client.post("/api/drafts/groups", json={"name": "Elsewhere"}, headers=who["alice"]).json()["data"]["id"]
    texts = ["--", "-- a signature", "--group", other]  # never read as the end of options or as --group OTHER
    posted = client.post(f"/api/drafts/groups/{gid}/posts", json={"paragraphs": texts}, headers=who["alice"])
    assert posted.status_code == 201, posted.text
    pid = posted.json()["data"]["post"]
    replied = client.post(f"/api/drafts/posts/{pid}/replies", json={"paragraphs": texts}, headers=who["alice"])
    assert replied.status_code == 201, replied.text
    amended = client.post(f"/api/drafts/posts/{pid}/amendments", json={"paragraphs": [*texts, "more"]},
                          headers=who["alice"])
    assert amended.status_code == 201, amended.text
    for post in (pid, replied.json()["data"]["post"]):
        shown = client.get(f"/api/drafts/posts/{post}", headers=who["alice"]).json()
        assert [e["text"] for e in shown["versions"][0]["entries"]][:4] == texts, shown
        assert shown["group"] == gid


@pytest.mark.parametrize(("sql", "status", "kind"), HOSTILE, ids=[h[2] + ":" + h[0][:30] for h in HOSTILE])
def test_a_hostile_query_is_a_problem_document_and_the_site_goes_on(voters, expect_problem, sql, status, kind):
    client, who = voters
    problem = expect_problem(client.post("/api/query", json={"sql": sql}, headers=who["mallory"]), status, kind)
    assert problem["detail"] and problem["title"] != "Bad Request"
    assert client.post("/api/query", json={"sql": "SELECT 1 AS one"}, headers=who["mallory"]).json()["rows"] == [[1]]


def test_a_members_weight_and_nickname_change_in_one_version_from_the_api_and_the_form(served, voters):
    site, _ = served
    client, who = voters
    gid = client.post("/api/drafts/groups", json={"name": "Board", "others_weight": "1", "weight": "5"},
                      headers=who["alice"]).json()["data"]["id"]
    client.post(f"/api/drafts/groups/{gid}/join", json={"nickname": "bobby"}, headers=who["bob"]).raise_for_status()
    client.post(f"/api/drafts/groups/{gid}/join", json={"nickname": "mal"}, headers=who["mallory"]).raise_for_status()
    before, version = site.log.head("draft").seq, client.get(f"/api/drafts/groups/{gid}").json()["version"]
    changed = client.patch(f"/api/drafts/groups/{gid}/members/bobby", json={"weight": "3", "nickname": "Bob"},
                           headers=who["alice"])
    assert changed.status_code == 200, changed.text
    assert site.log.head("draft").seq == before + 1  # one event: one version
    group = client.get(f"/api/drafts/groups/{gid}").json()
    assert group["version"] != version and changed.json()["data"]["version"] == group["version"]
    members = {m["voter"]: m for m in client.get(f"/api/drafts/groups/{gid}/members").json()["members"]}
    assert (members["bob@example.org"]["weight"], members["bob@example.org"]["nickname"]) == (3, "Bob")

    # refused whole: a weight alice may give with a nickname taken changes neither
    taken = client.patch(f"/api/drafts/groups/{gid}/members/mal", json={"weight": "2", "nickname": "Bob"},
                         headers=who["alice"])
    assert taken.status_code == 403 and "taken" in taken.json()["detail"]
    members = {m["voter"]: m for m in client.get(f"/api/drafts/groups/{gid}/members").json()["members"]}
    assert (members["mallory@example.org"]["weight"], members["mallory@example.org"]["nickname"]) == (1, "mal")
    assert site.log.head("draft").seq == before + 1

    # the group page's one form per member does the same
    from civitas_gateway.page_kit import COOKIE, csrf_for

    token = who["alice"]["Authorization"].split()[1]
    with httpx.Client(base_url=client.base_url, cookies={COOKIE: token}, headers={"Accept": "text/html"}) as browser:
        page = browser.post(f"/drafts/groups/{gid}/members/mallory@example.org",
                            data={"csrf": csrf_for(token), "weight": "2", "nickname": "Mallory"})
    assert page.status_code == 303 and site.log.head("draft").seq == before + 2, page.text[:300]
    members = {m["voter"]: m for m in client.get(f"/api/drafts/groups/{gid}/members").json()["members"]}
    assert (members["mallory@example.org"]["weight"], members["mallory@example.org"]["nickname"]) == (2, "Mallory")
