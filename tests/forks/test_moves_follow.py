"""What follows a moved voter, and what a move tells whom: drafts memberships, the voter's pages, the signed ask of
/moves/v1/ready, and two sites moving voters to each other at once. Two embedded sites over real HTTP."""

from __future__ import annotations

from concurrent.futures import wait

import httpx
from civitas.site import dispatch
from civitas_kernel.signing import SiteKey
from civitas_kernel.voter_command import VoterCommand
from civitas_registry.move_asks import signed_ask

DAY_US = 86_400_000_000
V = "mover@example.org"
F = "founder@example.org"


def run(site, voter, service, *args):
    return dispatch(site, VoterCommand(voter, service, args), local=True)


def move(a, b, voter=V):
    run(b, voter, "register", "accept-move", a.settings.SITE)
    reply = run(a, voter, "register", "move", b.settings.SITE)
    assert reply.data["arrived"], reply.text
    return reply


def test_drafts_memberships_stay_with_their_weight_and_say_where_the_member_went(two_sites):
    a, b, clock = two_sites
    group = run(a, F, "drafts", "group", "create", "Town plan", "--weight", "5").data["id"]
    run(a, F, "drafts", "group", "add", group, V, "mover", "3")
    post = run(a, V, "drafts", "post", group, "Widen the bridge").data["post"]
    run(a, F, "drafts", "vote", "up", post)
    before = a.draft_reads.posts(None, group)["posts"][0]["score"]

    reply = move(a, b)
    assert reply.data["named"] == 1  # their post, named by hash in the statement (F wrote their membership)
    members = {m["voter"]: m for m in a.draft_reads.members(None, group)["members"]}
    assert members[V]["weight"] == 3 and members[V]["moved_to"] == "b.example"
    assert members[F]["moved_to"] is None
    shown = a.draft_reads.posts(None, group)["posts"][0]
    assert shown["author"] == V and shown["author_moved_to"] == "b.example" and shown["score"] == before
    assert "(moved to b.example)" in run(a, F, "drafts", "group", "members", group).text
    page = httpx.get(f"{a.url}/drafts/groups/{group}").text
    assert "(moved to b.example)" in page
    assert "(moved to b.example)" in httpx.get(f"{a.url}/drafts/posts/{post}").text

    # they still act in A's groups, signed in there: drafts counts nobody between sites
    assert run(a, V, "drafts", "vote", "clear", post).data["post"] == post
    b.drafts.catch_up()
    assert b.drafts.state.moved_to(V) is None  # B answers for them: no mark there

    run(a, V, "register", "accept-move", "b.example")
    clock.now += 8 * DAY_US
    assert run(b, V, "register", "move", "a.example").data["arrived"]
    assert {m["voter"]: m for m in a.draft_reads.members(None, group)["members"]}[V]["moved_to"] is None
    b.drafts.catch_up()
    assert b.drafts.state.moved_to(V) == "a.example"  # and now A does


def test_a_drafts_mark_written_by_anyone_but_the_member_changes_nothing(two_sites):
    from civitas_kernel.events import NewEvent
    from civitas_schema.v1 import draft_pb2

    a, _, _ = two_sites
    group = run(a, F, "drafts", "group", "create", "Town plan").data["id"]
    a.log.append("draft", [NewEvent.of(draft_pb2.DraftMemberMoved(voter=F, to_site="elsewhere.example"), "operator")])
    assert {m["voter"]: m for m in a.draft_reads.members(None, group)["members"]}[F]["moved_to"] is None


def test_the_voters_pages_on_the_site_left_point_to_where_they_went(two_sites):
    a, b, _ = two_sites
    run(a, V, "register", "set", "name", "Mover")
    assert 'id="moved"' not in httpx.get(f"{a.url}/voters/{V}").text
    move(a, b)
    page = httpx.get(f"{a.url}/voters/{V}").text
    assert f'<a href="{b.url}/voters/{V}">b.example</a>' in page and "this site no longer counts them" in page
    assert f'href="/voters/{V}/moves"' in page
    assert 'id="moved"' not in httpx.get(f"{b.url}/voters/{V}").text  # B is where they are


def test_the_moves_and_lineage_pages_are_drawn_in_the_sites_layout(two_sites):
    a, b, _ = two_sites
    run(a, V, "register", "set", "name", "Mover")
    run(a, F, "register", "set", "name", "Founder")
    run(a, F, "register", "trust", V)
    page = httpx.get(f"{a.url}/voters/{V}/moves")
    assert page.status_code == 200 and "never moved" in page.text and "<nav" in page.text
    move(a, b)
    left = httpx.get(f"{a.url}/voters/{V}/moves").text
    assert f'now votes on <strong><a href="{b.url}/voters/{V}">b.example</a></strong>' in left
    assert 'data-direction="out">moved to b.example on' in left
    arrived = httpx.get(f"{b.url}/voters/{V}/moves").text
    assert 'data-direction="in">moved in from a.example on' in arrived and "now votes on" not in arrived
    assert "1 trust edges given at a.example: evidence here, counted there" in arrived

    unknown = httpx.get(f"{a.url}/voters/nobody@example.org/moves", headers={"Accept": "text/html"})
    assert unknown.status_code == 404 and "nobody@example.org is not registered on this site" in unknown.text
    malformed = httpx.get(f"{a.url}/voters/not-an-address/moves", headers={"Accept": "text/html"})
    assert malformed.status_code == 400 and 'id="problem"' in malformed.text
    lineage = httpx.get(f"{a.url}/site/lineage")
    assert lineage.status_code == 200 and "a.example is not a fork: it started from nothing." in lineage.text
    assert "<nav" in lineage.text


def _ready(site, ask: dict) -> httpx.Response:
    return httpx.get(f"{site.url}/moves/v1/ready", params=ask)


def test_only_the_site_a_voter_accepted_a_move_from_learns_that_they_did(two_sites):
    a, b, clock = two_sites
    run(b, V, "register", "accept-move", "a.example")
    asked = signed_ask(a.key, "a.example", "b.example", V, clock.now)
    assert _ready(b, asked).status_code == 200 and _ready(b, asked).json()["ready"]

    def answers(ask: dict) -> tuple[int, str]:
        got = _ready(b, ask)
        return got.status_code, got.json()["detail"]

    stranger = SiteKey.generate()
    for voter in (V, "nobody@example.org"):  # accepted or not, a failed ask is answered alike
        wrong_key = signed_ask(stranger, "a.example", "b.example", voter, clock.now)
        assert answers(wrong_key) == (403, "the ask is not signed with the key b.example pinned for a.example")
        to_another = signed_ask(a.key, "a.example", "c.example", voter, clock.now)  # replayed from elsewhere
        assert answers(to_another)[0] == 403
        stale = signed_ask(a.key, "a.example", "b.example", voter, clock.now - 10 * 60_000_000)
        assert answers(stale)[0] == 403 and "clock" in answers(stale)[1]
        unknown = signed_ask(stranger, "c.example", "b.example", voter, clock.now)
        assert answers(unknown) == (403, "b.example holds no key for 'c.example': only a site its operator named "
                                         "may ask")
    other = dict(asked, voter="nobody@example.org")  # a signature for one voter does not ask about another
    assert answers(other)[0] == 403
    assert _ready(b, {"voter": V, "from": "a.example"}).status_code == 422  # unsigned: no answer about V


def test_two_sites_moving_voters_to_each_other_at_once_both_finish(two_sites):
    a, b, _ = two_sites
    there, back = "goes@example.org", "comes@example.org"
    run(b, there, "register", "accept-move", "a.example")
    run(a, back, "register", "accept-move", "b.example")
    run(a, there, "register", "set", "name", "Goes")
    run(b, back, "register", "set", "name", "Comes")
    # each through its site's writer, holding its lock, as the gateway's commands run; both held back until both
    # are queued, so each asks the other while the other is asking it (waiting on each other's lock, both would
    # give up at the courier's timeout and write nothing)
    with a.lock, b.lock:
        moving = [a.writer.submit(lambda: dispatch(a, VoterCommand(there, "register", ("move", "b.example"))),
                                  alone=True),
                  b.writer.submit(lambda: dispatch(b, VoterCommand(back, "register", ("move", "a.example"))),
                                  alone=True)]
    wait(moving, timeout=30)
    assert [f.result().data["arrived"] for f in moving] == [True, True]
    assert a.registry.lineage.state.moved_to(there) == "b.example"
    assert b.registry.lineage.state.moved_to(back) == "a.example"
