"""Drafts as a service of its own, driven over HTTP as the gateway drives it, on SQLite and PostgreSQL logs of record:
voters' commands through POST /commands, then the groups, members and posts as the read routes show them."""

from __future__ import annotations

import pytest

from civitas_drafts.http import SERVICE

from ..service import ok, problem

ALICE, BOB, CAROL, DAVE = "alice@example.org", "bob@example.org", "carol@example.org", "dave@example.org"


def hall(service) -> str:
    """Alice (weight 5) founds a public hall that joiners enter at weight 1; Bob joins."""
    gid = ok(service.command(ALICE, "group", "create", "Town", "hall", "--weight", "5", "--others-weight", "1"))["id"]
    ok(service.command(BOB, "group", "join", gid))
    return gid


def head(service) -> int:
    streams = service.get("/streams").json()
    return next((s["seq"] for s in streams if s["stream"] == "draft"), 0)


def test_the_service_names_itself_and_its_port():
    assert (SERVICE.name, SERVICE.port) == ("drafts", 8005)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_voters_draft_and_every_read_route_shows_it(start_drafts, backend):
    service = start_drafts(backend)
    gid = hall(service)
    ok(service.command(ALICE, "group", "add", gid, CAROL, "carol", "3"))
    pid = ok(service.command(BOB, "post", gid, "Plant trees.", "Many of them."))["post"]
    ok(service.command(CAROL, "vote", "up", pid))
    ok(service.command(ALICE, "vote", "down", f"{pid}#2"))
    reply = ok(service.command(CAROL, "reply", f"{pid}#2", "How many?"))["post"]
    alternative = ok(service.command(CAROL, "amend", pid, "Plant trees.", "A hundred of them."))["changed"]
    ok(service.command(ALICE, "vote", "0.5", alternative))

    assert [(g["id"], g["name"], g["members"]) for g in service.get("/groups").json()] == [(gid, "Town hall", 3)]
    assert service.get(f"/groups/{gid}").json()["others_members_weight"] == 1
    members = service.get(f"/groups/{gid}/members", voter=DAVE).json()["members"]
    assert [(m["nickname"], m["weight"]) for m in members] == [("alice", 5), ("carol", 3), ("bob", 1)]

    flat = service.get(f"/groups/{gid}/posts", voter=DAVE).json()
    assert flat["view"] == "flat" and not flat["truncated"]
    # the alternative: carol's own +1 (3) and alice's 0.5 (5 x 0.5); the post: bob's +1 and carol's up (1 + 3)
    assert [(p["post"], p["score"]) for p in flat["posts"]] == [(pid, "5.5"), (reply, "3")]
    post = flat["posts"][0]
    assert post["chosen"] == alternative and post["replies"] == 1
    text, proposed = post["versions"]
    assert (text["id"], text["score"], proposed["id"], proposed["amends"]) == (pid, "4", alternative, pid)
    # alice's -1 on the second paragraph scores that paragraph only (weight 5), never the post
    assert [(e["text"], e["status"], e["score"]) for e in text["entries"]] == [
        ("Plant trees.", "live", "0"), ("Many of them.", "live", "-5")]
    assert [(e["text"], e["status"]) for e in proposed["entries"]] == [
        ("Plant trees.", "live"), ("Many of them.", "replaced"), ("A hundred of them.", "live")]

    threaded = service.get(f"/groups/{gid}/posts", view="threaded").json()
    assert [p["post"] for p in threaded["posts"]] == [pid]
    assert [(p["post"], p["reply_to"], p["thread"]) for p in threaded["posts"][0]["thread"]] == [(reply, pid, [])]

    one = service.get(f"/posts/{alternative[:10]}", voter=DAVE).json()  # an alternative's id names its post
    assert (one["post"], one["score"], one["chosen"], one["thread"]) == (pid, "5.5", alternative, [reply])
    assert [v["id"] for v in one["versions"]] == [pid, alternative]


def test_hidden_posts_are_listed_only_when_asked_for(start_drafts):
    service = start_drafts()
    gid = hall(service)
    pid = ok(service.command(BOB, "post", gid, "Ban cars."))["post"]
    ok(service.command(ALICE, "vote", "down", pid))  # bob's 1 - alice's 5
    assert service.get(f"/groups/{gid}/posts").json()["posts"] == []
    hidden = service.get(f"/groups/{gid}/posts", hidden="true").json()["posts"]
    assert [(p["post"], p["score"], p["shown"]) for p in hidden] == [(pid, "-4", False)]


def test_a_private_groups_posts_reach_only_its_members(start_drafts):
    service = start_drafts()
    gid = ok(service.command(ALICE, "group", "create", "Council", "--private"))["id"]
    ok(service.command(ALICE, "group", "add", gid, BOB, "bob", "1"))
    pid = ok(service.command(BOB, "post", gid, "Secret plan."))["post"]

    assert [g["name"] for g in service.get("/groups", voter=BOB).json()] == ["Council"]
    assert service.get("/groups", voter=DAVE).json() == [] and service.get("/groups").json() == []
    for path in (f"/groups/{gid}", f"/groups/{gid}/members", f"/groups/{gid}/posts", f"/posts/{pid}"):
        problem(service.get(path, voter=DAVE), 404)
        assert service.get(path, voter=BOB).status_code == 200, path
    assert service.get(f"/posts/{pid}", voter=BOB).json()["versions"][0]["entries"][0]["text"] == "Secret plan."


def test_a_version_breaking_one_rule_is_refused_whole_and_writes_nothing(start_drafts):
    service = start_drafts()
    gid = hall(service)
    before = head(service)
    refused = service.command(DAVE, "group", "set-weight", gid, "alice", "-1")  # a stranger bans the founder
    assert refused["status"] == 403, refused
    refused = service.command(BOB, "group", "set-weight", gid, "alice", "0")  # bob (1) lowers alice (5)
    assert refused["status"] == 403
    assert head(service) == before
    members = service.get(f"/groups/{gid}/members").json()["members"]
    assert [(m["nickname"], m["weight"]) for m in members] == [("alice", 5), ("bob", 1)]


def test_a_site_may_allow_smaller_posts_than_every_site_folds(start_drafts):
    service = start_drafts(POST_MAX_BYTES=100)
    gid = hall(service)
    before = head(service)
    refused = service.command(BOB, "post", gid, "x" * 60, "y" * 41)
    assert refused["status"] == 400 and "at most 100 bytes" in refused["detail"] and "101" in refused["detail"]
    assert head(service) == before
    ok(service.command(BOB, "post", gid, "x" * 60, "y" * 40))


def test_a_batch_of_commands_answers_each_and_names_the_service_it_is_for(start_drafts):
    service = start_drafts()
    gid = hall(service)
    with service.client() as client:
        results = service.commands(client, [(CAROL, "group", "join", gid), (CAROL, "post", gid, "Hello."),
                                            (CAROL, "vote", "up", "0000000000")])
        wrong = client.post("/commands", json={"commands": [{"voter": CAROL, "service": "polls", "args": ["help"]}]})
    assert "status" not in results[0] and "status" not in results[1] and results[2]["status"] == 404
    assert "drafts" in wrong.json()["results"][0]["detail"]


def test_reads_of_what_is_not_there_are_problems(start_drafts):
    service = start_drafts()
    hall(service)
    problem(service.get("/groups/nosuchgroup"), 404)
    problem(service.get("/posts/abcdef123456"), 404)
    problem(service.get("/groups", voter="not an address"), 400)
    problem(service.get("/groups/Town hall/posts", view="sideways"), 422, "invalid-request")


def test_threads_nest_replies_best_first_and_a_limit_cuts_the_list(start_drafts):
    service = start_drafts()
    gid = hall(service)
    pid = ok(service.command(ALICE, "post", gid, "Root."))["post"]
    first = ok(service.command(BOB, "reply", pid, "Early reply."))["post"]
    second = ok(service.command(BOB, "reply", pid, "Later reply."))["post"]
    ok(service.command(ALICE, "vote", "up", second))  # second: bob 1 + alice 5 > first: bob 1
    chain = [second]
    for n in range(30):  # a long chain of replies to replies
        chain.append(ok(service.command(ALICE if n % 2 else BOB, "reply", chain[-1], f"Deeper {n}."))["post"])

    (root,) = service.get(f"/groups/{gid}/posts", view="threaded", limit=1).json()["posts"]
    assert [p["post"] for p in root["thread"]] == [second, first]
    node, depth = root["thread"][0], 0
    while node["thread"]:
        (node,) = node["thread"]
        depth += 1
    assert depth == 30 and node["post"] == chain[-1]
    flat = service.get(f"/groups/{gid}/posts", limit=2).json()
    assert flat["truncated"] and len(flat["posts"]) == 2 and flat["posts"][0]["post"] == second  # 6; the rest 5 or 1
