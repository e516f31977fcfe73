"""The query database kept current change by change holds exactly the rows a rebuild from scratch would."""

from __future__ import annotations

import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from civitas_kernel.commands import CommandError
from civitas_drafts.domain.groups import Member
from civitas_drafts.domain.ids import personal_group_id
from civitas_drafts.materialize import PublicMaster
from civitas_drafts.tables import SCHEMA, create_tables, group_rows

from ..builders import ALICE, BOB, CAROL, DAVE, Board

VOTERS = [ALICE, BOB, CAROL, DAVE]


def dump(db: sqlite3.Connection) -> dict[str, list[tuple]]:
    return {table: sorted(db.execute(f"SELECT * FROM {table}").fetchall(), key=repr) for table in SCHEMA}


def rebuilt(board: Board) -> dict[str, list[tuple]]:
    db = sqlite3.connect(":memory:")
    create_tables(db)
    for gid, group in board.state.groups.items():
        if not group.private:
            group_rows(board.state, gid).insert(db, board.state)
    return dump(db)


step = st.tuples(st.sampled_from(["post", "reply", "amend", "vote", "paragraph", "weight", "join", "default",
                                  "cross", "own", "refresh"]),
                 st.sampled_from(VOTERS), st.integers(0, 50), st.integers(-2, 3))


@settings(max_examples=100, deadline=None)
@given(st.lists(step, max_size=30))
def test_the_master_follows_every_change_exactly(steps):
    board = Board()
    hall = board.create(ALICE, weight=3, others_weight=2)
    council = board.create(BOB, private=True, name="Council")
    picks = board.create(CAROL, weight=3, others_weight=2, name="Picks")  # another moderation of the hall
    master = PublicMaster(board.state)
    master.refresh()
    posts: list[str] = []
    for what, voter, pick, number in steps:
        target = posts[pick % len(posts)] if posts else None
        try:
            if what == "post":
                posts.append(board.post(council if pick % 5 == 0 else hall, voter, f"Text {pick}.", f"More {number}."))
            elif what == "reply" and target:
                posts.append(board.post(hall, voter, f"Reply {pick}.", reply_to=target))
            elif what == "amend" and target:
                posts.append(board.amend(target, voter, f"Text {pick}.", f"Changed {number}."))
            elif what == "vote" and target:
                board.vote(board.state.items[target].group, voter, target, number or 1)
            elif what == "paragraph" and target:
                paragraph = board.state.items[target].entries[0].paragraph
                board.vote(board.state.items[target].group, voter, target, number or -1, paragraph)
            elif what == "weight":
                group, founder = (hall, ALICE) if pick % 2 else (picks, CAROL)
                board.change(group, founder, members=(Member(voter, voter.split("@")[0], number),))
            elif what == "join":
                board.join(hall if pick % 2 else picks, voter, weight=min(number, 2))
            elif what == "default":
                board.change(hall, ALICE, default_score=number * 500_000)
            elif what == "cross" and target:
                board.vote(personal_group_id(voter) if pick % 2 else picks, voter, target, number or 1)
            elif what == "own":
                posts.append(board.post(personal_group_id(voter), voter, f"Mine {pick}."))
            elif what == "refresh":
                master.refresh()
        except CommandError:
            pass  # refused by a rule: nothing changed, and the master must agree
    master.refresh()
    assert dump(master.db) == rebuilt(board)


def test_banning_an_author_in_a_group_their_post_was_voted_into_rescores_it_there():
    board = Board()
    hall = board.create(ALICE, weight=3, others_weight=2)
    picks = board.create(CAROL, weight=3, others_weight=2, name="Picks")
    master = PublicMaster(board.state)
    pid = board.post(hall, BOB, "Bob's proposal.")
    board.change(picks, CAROL, members=(Member(BOB, "bob", 1),))
    board.vote(picks, CAROL, pid, 1)
    master.refresh()
    board.change(picks, CAROL, members=(Member(BOB, "bob", -2),))  # bob never voted in picks
    master.refresh()
    picks_number = board.state.group_numbers[picks]
    assert master.db.execute("SELECT score FROM scores WHERE group_id = ?", (picks_number,)).fetchall() == [(1.0,)]
    assert dump(master.db) == rebuilt(board)
