"""The score rule: weighted, clamped, current, blind to the order of votes; banned members count for nothing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civitas_drafts.domain.errors import NotAllowed, VoteValueError
from civitas_drafts.domain.groups import Member
from civitas_drafts.domain.numbers import MAX_VOTE, UNIT, format_micro, parse_vote_value
from civitas_drafts.domain.scores import clamp, score
from civitas_drafts.domain.views import group_scores, paragraph_scores, ranking

from ..builders import ALICE, BOB, CAROL, DAVE, Board


def hall(board: Board, default: int = 0) -> str:
    """Alice 5, Bob 2, Carol 1; Dave joins later if at all."""
    gid = board.create(ALICE, weight=5, others_weight=1, default_score=default)
    board.change(gid, ALICE, members=(Member(BOB, "bob", 2), Member(CAROL, "carol", 1)))
    return gid


def test_a_post_scores_its_authors_vote_then_each_members_weight_times_their_clamped_votes():
    board = Board()
    gid = hall(board)
    pid = board.post(gid, CAROL, "Let us plant trees.")
    assert group_scores(board.state, gid)[pid] == 1 * UNIT  # posting is carol's +1
    board.vote(gid, ALICE, pid, 1)
    board.vote(gid, ALICE, pid, 1)  # alice's votes sum to 2, clamped to 1
    board.vote(gid, BOB, pid, -0.5)
    assert group_scores(board.state, gid)[pid] == 1 * UNIT + 5 * UNIT - 1 * UNIT


def test_a_banned_members_upvote_counts_for_nothing_and_their_post_scores_their_weight():
    board = Board()
    gid = hall(board)
    pid = board.post(gid, CAROL, "A fair proposal.")
    spam = board.post(gid, BOB, "Buy now.")
    board.change(gid, ALICE, members=(Member(BOB, "bob", -3),))
    board.vote(gid, BOB, pid, 1)
    board.vote(gid, BOB, pid, -1)
    board.vote(gid, BOB, pid, -1)
    points = group_scores(board.state, gid)
    assert points[pid] == 1 * UNIT  # only carol's own +1: bob's votes, up or down, count for nothing
    assert points[spam] == -3 * UNIT  # bob's own +1 counts for nothing, and his weight is added


def test_weights_and_the_default_apply_at_once_to_every_post():
    board = Board()
    gid = hall(board, default=0)
    old = board.post(gid, CAROL, "Old post.")
    board.vote(gid, BOB, old, -1)
    assert not ranking(board.state, gid)  # 1 - 2 = -1: hidden
    board.change(gid, ALICE, members=(Member(BOB, "bob", 1),))
    assert group_scores(board.state, gid)[old] == 0
    board.change(gid, ALICE, default_score=UNIT // 2)
    assert [r.post.id for r in ranking(board.state, gid)] == [old]  # the new default counts for the old post
    board.change(gid, BOB, removed=(BOB,))
    assert group_scores(board.state, gid)[old] == UNIT + UNIT // 2  # a member who left counts for nothing


def test_paragraph_votes_count_toward_the_paragraph_only():
    board = Board()
    gid = hall(board)
    pid = board.post(gid, CAROL, "First.", "Second.")
    second = board.state.items[pid].entries[1].paragraph
    board.vote(gid, ALICE, pid, -1, paragraph=second)
    assert group_scores(board.state, gid)[pid] == UNIT
    first = board.state.items[pid].entries[0].paragraph
    assert paragraph_scores(board.state, gid, pid) == {first: 0, second: -5 * UNIT}


def test_only_members_vote_and_a_private_groups_post_stays_in_it():
    board = Board()
    gid = hall(board)
    pid = board.post(gid, CAROL, "Hello.")
    with pytest.raises(NotAllowed, match="only members vote"):
        board.vote(gid, DAVE, pid, 1)
    council = board.create(ALICE, private=True, name="Council")
    secret = board.post(council, ALICE, "Secret.")
    with pytest.raises(NotAllowed, match="private group cannot be voted into another"):
        board.vote(gid, ALICE, secret, 1)


def test_a_post_voted_into_another_group_is_scored_there_by_that_groups_members():
    board = Board()
    gid = hall(board)
    pid = board.post(gid, CAROL, "Cross me.")
    mirror = board.create(DAVE, weight=3, name="Dave's picks")
    assert pid not in group_scores(board.state, mirror)
    board.vote(mirror, DAVE, pid, 1)
    assert group_scores(board.state, mirror)[pid] == 3 * UNIT  # carol's posting +1 counts only in her group
    assert [r.post.id for r in ranking(board.state, mirror)] == [pid]


@pytest.mark.parametrize("text, message", [
    ("nan", "finite"), ("inf", "finite"), ("-Infinity", "finite"), ("1e400", "too large"),
    (str(MAX_VOTE // UNIT + 1), "too large"), ("0.0000001", "too many decimals"), ("0", "changes nothing"),
    ("one", "not a number"),
])
def test_vote_values_are_finite_bounded_numbers(text, message):
    with pytest.raises(VoteValueError, match=message):
        parse_vote_value(text)


def test_vote_values_in_events_are_bounded_too():
    board = Board()
    gid = hall(board)
    pid = board.post(gid, CAROL, "Hello.")
    with pytest.raises(VoteValueError, match="at most 1,000"):
        board.vote(gid, ALICE, pid, MAX_VOTE / UNIT + 1)
    assert parse_vote_value("-0.25") == -250_000 and format_micro(-250_000) == "-0.25"


votes = st.lists(st.tuples(st.sampled_from([ALICE, BOB, CAROL, DAVE]), st.integers(0, 2), st.booleans(),
                           st.integers(-3 * UNIT, 3 * UNIT).filter(bool)), max_size=40)


def fold(order, dave_weight: int) -> tuple[dict, dict]:
    board = Board()
    gid = hall(board)
    board.join(gid, DAVE, weight=1)
    posts = [board.post(gid, CAROL, f"Post {i}.") for i in range(3)]
    if dave_weight != 1:
        board.change(gid, ALICE, members=(Member(DAVE, "dave", dave_weight),))
    for voter, post, on_paragraph, value in order:
        pid = posts[post]
        paragraph = board.state.items[pid].entries[0].paragraph if on_paragraph else ""
        board.vote(gid, voter, pid, value / UNIT, paragraph)
    return group_scores(board.state, gid), {p: paragraph_scores(board.state, gid, p) for p in posts}


@settings(max_examples=100, deadline=None)
@given(votes, st.randoms(use_true_random=False))
def test_the_order_of_votes_never_changes_a_score(order, random):
    shuffled = list(order)
    random.shuffle(shuffled)
    assert fold(order, 1) == fold(shuffled, 1)


@settings(max_examples=100, deadline=None)
@given(votes)
def test_a_banned_members_votes_change_no_score(order):
    without_dave = [v for v in order if v[0] != DAVE]
    assert fold(order, -2) == fold(without_dave, -2)


@settings(max_examples=100, deadline=None)
@given(votes)
def test_paragraph_votes_never_move_a_posts_score(order):
    on_posts = [v for v in order if not v[2]]
    assert fold(order, 1)[0] == fold(on_posts, 1)[0]


sums = st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.integers(-5 * UNIT, 5 * UNIT), max_size=4)
weights = st.dictionaries(st.sampled_from(["a", "b", "c", "d", "e"]), st.integers(-10, 10), max_size=5)


@given(st.integers(-5 * UNIT, 5 * UNIT), weights, sums, st.sampled_from(["a", "b", "x"]))
def test_each_member_moves_a_score_by_at_most_their_weight(default, weights, sums, author):
    points = score(default, weights, sums, weights.get(author))
    bonus = min(weights.get(author, 0), 0) * UNIT
    assert abs(points - default - bonus) <= sum(w for w in weights.values() if w > 0) * UNIT
    assert all(-UNIT <= clamp(s) <= UNIT for s in sums.values())


rows = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 5), st.integers(-3 * UNIT, 3 * UNIT)), max_size=30)
number_weights = st.dictionaries(st.integers(0, 6), st.integers(-10, 10), max_size=6)


@given(st.integers(-5 * UNIT, 5 * UNIT), number_weights, rows, st.lists(st.integers(0, 6), min_size=5, max_size=5),
       st.booleans())
def test_scoring_from_columns_is_the_rule_exactly(default, weights, votes, authors, huge):
    """The int64 columns give the rule's own integers; weights too large for int64 take Python's path."""
    from civitas_drafts.domain.scores import table_scores
    from civitas_drafts.domain.votes import VoteTable

    if huge:
        weights = {voter: w * 10**12 for voter, w in weights.items()}
    table, by_post = VoteTable(), {}
    for post, voter, value in votes:
        table.add(post, voter, value)
        by_post.setdefault(post, {})[voter] = by_post.get(post, {}).get(voter, 0) + value
    posts = list(range(5))
    expected = [score(default, weights, by_post.get(p, {}), weights.get(a)) for p, a in zip(posts, authors)]
    assert table_scores(default, weights, table, posts, authors) == expected
