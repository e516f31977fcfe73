"""A member whose registration moved to another site: the mark changes where they are answered for, nothing else."""

from __future__ import annotations

from civitas_kernel.events import NewEvent
from civitas_drafts.domain.groups import Member
from civitas_drafts.render import members_text
from civitas_schema.v1 import draft_pb2

from ..builders import ALICE, BOB, Board


def moved(voter: str, to_site: str, actor: str | None = None) -> NewEvent:
    return NewEvent.of(draft_pb2.DraftMemberMoved(voter=voter, to_site=to_site, moved_at_us=1),
                       voter if actor is None else actor)


def test_a_moved_member_keeps_their_weight_and_a_move_back_clears_the_mark():
    board = Board()
    gid = board.create(ALICE, weight=5)
    board.change(gid, ALICE, members=(Member(BOB, "bob", 3),))
    before = dict(board.group(gid).members)
    board.apply(moved(BOB, "b.example"))
    assert board.state.moved_to(BOB) == "b.example" and board.group(gid).members == before
    text, rows = members_text(board.group(gid), board.state.moved)
    assert "bob" in text and "(moved to b.example)" in text
    assert {r["voter"]: r["moved_to"] for r in rows} == {ALICE: None, BOB: "b.example"}
    board.apply(moved(BOB, ""))  # arrived back here
    assert board.state.moved_to(BOB) is None


def test_only_the_member_themselves_marks_their_move():
    board = Board()
    board.apply(moved(BOB, "b.example", actor=ALICE))
    board.apply(moved(BOB, "b.example", actor=""))
    assert board.state.moved_to(BOB) is None
