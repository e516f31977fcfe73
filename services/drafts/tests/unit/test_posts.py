"""Posts of paragraphs stored once, replies, and amendments that keep every paragraph a post ever had."""

from __future__ import annotations

import pytest
from civitas_kernel.events import decode_body
from hypothesis import given
from hypothesis import strategies as st

from civitas_drafts.domain.decisions import decide_post
from civitas_drafts.domain.errors import DraftError, NotAllowed, PostNotFound, TooLargeError
from civitas_drafts.domain.groups import Member
from civitas_drafts.domain.ids import paragraph_hash
from civitas_drafts.domain.posts import (
    DELETED, LIVE, MAX_PARAGRAPH_BYTES, MAX_PARAGRAPHS, MAX_POST_BYTES, REPLACED, amended, first_entries,
)
from civitas_drafts.domain.views import ranking

from ..builders import ALICE, BOB, CAROL, DAVE, Board


@pytest.fixture
def board() -> Board:
    return Board()


def hall(board: Board) -> str:
    gid = board.create(ALICE, weight=5, others_weight=1)
    board.change(gid, ALICE, members=(Member(BOB, "bob", 2),))
    return gid


def text(board: Board, pid: str) -> list[str]:
    return [board.state.paragraphs[h] for h in board.state.items[pid].text]


def test_a_paragraph_is_stored_once_by_its_hash(board):
    gid = hall(board)
    first = board.post(gid, ALICE, "  Shared opening.  ", "Alice's point.")
    second = board.post(gid, BOB, "Shared opening.", "Bob's point.")
    posted = [e for e in board.events if e.type.endswith("DraftPosted")]
    bodies = [decode_body(e.type, e.body) for e in posted]
    assert list(bodies[0].texts) == ["Shared opening.", "Alice's point."]
    assert list(bodies[1].texts) == ["Bob's point."]  # the shared paragraph is named by its hash only
    assert bodies[1].paragraphs[0] == paragraph_hash("Shared opening.")
    assert text(board, first)[0] == text(board, second)[0] == "Shared opening."


def test_replies_name_a_post_or_one_of_its_paragraphs(board):
    gid = hall(board)
    pid = board.post(gid, ALICE, "One.", "Two.")
    two = board.state.items[pid].entries[1].paragraph
    reply = board.post(gid, BOB, "About two.", reply_to=pid, reply_to_paragraph=two)
    assert board.state.replies[pid] == [reply] and board.state.items[reply].reply_to_paragraph == two
    with pytest.raises(DraftError, match="not in the post you reply to"):
        board.post(gid, BOB, "Huh.", reply_to=pid, reply_to_paragraph=paragraph_hash("Three."))
    with pytest.raises(PostNotFound):
        board.post(gid, BOB, "Huh.", reply_to="ab" * 32)


def test_a_private_groups_posts_reach_its_members_only(board):
    council = board.create(ALICE, private=True, name="Council")
    secret = board.post(council, ALICE, "Secret.")
    with pytest.raises(NotAllowed, match="only members post"):
        board.post(council, CAROL, "Let me in.")
    public = hall(board)
    with pytest.raises(PostNotFound):
        board.post(public, CAROL, "Reply.", reply_to=secret)
    with pytest.raises(PostNotFound):
        board.amend(secret, CAROL, "Changed.")
    with pytest.raises(NotAllowed, match="stays in that group"):
        board.post(public, ALICE, "Leaked reply.", reply_to=secret)
    assert board.state.visible_groups(CAROL) == [public]
    assert sorted(board.state.visible_groups(ALICE)) == sorted([council, public])


@pytest.mark.parametrize("texts, error, message", [
    ([], DraftError, "at least one paragraph"),
    (["   "], DraftError, "at least one paragraph"),
    (["x" * (MAX_PARAGRAPH_BYTES + 1)], TooLargeError, "a paragraph is at most"),
    (["é" * (MAX_PARAGRAPH_BYTES // 2 + 1)], TooLargeError, "a paragraph is at most"),  # bytes, not characters
    ([f"p{i}" for i in range(MAX_PARAGRAPHS + 1)], TooLargeError, "at most 100 paragraphs"),
    ([f"{i:02d}" + "x" * (MAX_PARAGRAPH_BYTES - 2) for i in range(MAX_POST_BYTES // MAX_PARAGRAPH_BYTES + 1)],
     TooLargeError, "a post is at most"),
    (["a\x00b"], DraftError, "NUL"),
])
def test_posts_over_the_limits_are_refused_and_write_nothing(board, texts, error, message):
    gid = hall(board)
    written = len(board.events)
    with pytest.raises(error, match=message):
        decide_post(board.state, ALICE, gid, texts)
    assert len(board.events) == written and not board.state.items


def test_the_authors_amendment_replaces_the_post_in_place_keeping_every_paragraph(board):
    gid = hall(board)
    pid = board.post(gid, ALICE, "Keep.", "Drop.", "Keep too.", "Change me.")
    assert board.amend(pid, ALICE, "Keep.", "Keep too.", "Changed.", "Added.") == pid
    item = board.state.items[pid]
    assert [(board.state.paragraphs[e.paragraph], e.status) for e in item.entries] == [
        ("Keep.", LIVE), ("Drop.", DELETED), ("Keep too.", LIVE), ("Change me.", REPLACED), ("Changed.", LIVE),
        ("Added.", LIVE)]
    assert item.entries[4].replaces == item.entries[3].paragraph == paragraph_hash("Change me.")
    assert item.entries[3].replaced_by == paragraph_hash("Changed.")
    assert text(board, pid) == ["Keep.", "Keep too.", "Changed.", "Added."] and item.revisions == 2
    with pytest.raises(DraftError, match="nothing changed"):
        board.amend(pid, ALICE, "Keep.", "Keep too.", "Changed.", "Added.")


def test_anothers_amendment_is_an_alternative_that_the_groups_votes_can_choose(board):
    gid = hall(board)
    pid = board.post(gid, BOB, "Tax cars.")
    alternative = board.amend(pid, CAROL, "Tax cars and trucks.")
    assert alternative != pid and board.state.items[pid].alternatives == [alternative]
    assert text(board, pid) == ["Tax cars."]  # the post itself is unchanged
    [shown] = ranking(board.state, gid)
    assert shown.chosen.id == pid  # bob's own +1; carol is no member, so hers counts for nothing
    board.vote(gid, ALICE, alternative, 1)
    [shown] = ranking(board.state, gid)
    assert (shown.post.id, shown.chosen.id, shown.score) == (pid, alternative, 5_000_000)
    assert board.amend(alternative, CAROL, "Tax trucks.") == alternative  # her own alternative, in place
    assert board.amend(alternative, DAVE, "Tax nobody.") != alternative  # another alternative of bob's post
    assert len(board.state.items[pid].alternatives) == 2


paragraph_texts = st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f"]), min_size=1, max_size=8)


@given(paragraph_texts, st.lists(paragraph_texts, min_size=1, max_size=4))
def test_amendments_keep_every_earlier_paragraph_in_order_and_yield_the_new_text(first, later):
    entries = first_entries(first)
    for new_text in later:
        try:
            result = amended(entries, new_text)
        except DraftError:
            assert [e.paragraph for e in entries if e.status == LIVE] == new_text
            continue
        assert [e.paragraph for e in result if e.status == LIVE] == new_text
        old = iter(result)
        assert all(any(r.paragraph == e.paragraph and (e.status != LIVE) <= (r.status != LIVE) for r in old)
                   for e in entries)  # a subsequence: nothing erased, nothing revived in place
        assert amended(entries, new_text) == result  # the same order on every run
        entries = result


def naive_ranking(state, gid):
    """The ranking rule written plainly: each post's best version by (score, the post itself, earliest)."""
    from civitas_drafts.domain.views import group_scores

    families: dict[str, list] = {}
    for pid, value in group_scores(state, gid).items():
        item = state.items[pid]
        families.setdefault(item.amends or pid, []).append((value, not item.amends, -item.order, pid))
    best = sorted((-max(versions)[0], root, max(versions)[3]) for root, versions in families.items())
    return [(root, pid, -negative) for negative, root, pid in best]


@given(st.lists(st.tuples(st.sampled_from(["post", "amend", "vote"]), st.sampled_from([ALICE, BOB, CAROL, DAVE]),
                          st.integers(0, 20), st.sampled_from([-1, 1])), max_size=25))
def test_the_ranking_lists_each_post_once_with_its_best_version(steps):
    board = Board()
    gid = board.create(ALICE, weight=2, others_weight=1)
    board.join(gid, BOB)
    items: list[str] = []
    for what, voter, pick, value in steps:
        try:
            if what == "post" or not items:
                items.append(board.post(gid, voter, f"Text {pick}."))
            elif what == "amend":
                items.append(board.amend(items[pick % len(items)], voter, f"Amended {pick}."))
            else:
                board.vote(gid, voter, items[pick % len(items)], value)
        except (DraftError, NotAllowed):
            pass
    ranked = [(r.post.id, r.chosen.id, r.score) for r in ranking(board.state, gid, hidden=True)]
    assert ranked == naive_ranking(board.state, gid)
    assert [r for r in ranked if r[2] > 0] == [(r.post.id, r.chosen.id, r.score) for r in ranking(board.state, gid)]
