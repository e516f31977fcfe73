"""A group's subject, fixed by its first version, and a post's anchor in a diff: what every site folds the same."""

from __future__ import annotations

import pytest

from civitas_kernel.events import NewEvent
from civitas_drafts.domain.decisions import decide_version, first_version, next_version
from civitas_drafts.domain.errors import DraftError, GroupChangeRefused
from civitas_drafts.domain.posts import Anchor

from ..builders import ALICE, BOB, DAVE, Board


def test_a_subject_is_set_by_the_first_version_only_and_indexed_in_order():
    board = Board()
    squatter = board.create(DAVE, name="Discussion of change:1", subject="change:1", others_weight=1)
    real = board.create(ALICE, name="Discussion of change:1", subject="change:1", others_weight=1)
    plain = board.create(BOB, name="Garden")
    assert board.state.by_subject == {"change:1": [squatter, real]}  # both kept: the reader picks its owner's
    assert (board.group(real).subject, board.group(real).founder) == ("change:1", ALICE)
    assert board.group(plain).subject == ""
    later = next_version(board.group(real), ALICE, name="Renamed")
    with pytest.raises(GroupChangeRefused, match="subject is chosen when it is made"):
        decide_version(board.state, type(later)(**{**later.__dict__, "subject": "change:2"}))
    board.change(real, ALICE, name="Renamed")
    assert board.group(real).subject == "change:1"


@pytest.mark.parametrize("subject", ["change: 1", "x" * 201, "change:\n1", "tab\tbed"])
def test_a_subject_is_one_word_of_printable_text(subject):
    with pytest.raises(DraftError, match="subject"):
        decide_version(Board().state, first_version(ALICE, "Talk", "alice", subject=subject))


def test_a_group_without_a_subject_hashes_as_before_subjects_existed():
    version = first_version(ALICE, "Town hall", "alice", weight=5, others_weight=1, made_at_us=1)
    assert b"change:" not in version.to_message().SerializeToString()
    assert version.hash == first_version(ALICE, "Town hall", "alice", weight=5, others_weight=1, made_at_us=1,
                                         subject="").hash


def test_a_post_answering_a_hunk_keeps_its_anchor_and_is_listed_for_its_group():
    board = Board()
    gid = board.create(ALICE, others_weight=1)
    anchor = Anchor("pages/app.py", "@@ -0,0 +1,2 @@", "ab" * 32)
    pid = board.post(gid, BOB, "Why not hello()?", anchor=anchor)
    plain = board.post(gid, BOB, "Unrelated.")
    assert board.state.items[pid].anchor == anchor and board.state.items[plain].anchor is None
    assert board.state.anchored == {gid: [pid]}
    # the same words on another hunk are another post
    assert board.post(gid, BOB, "Why not hello()?", anchor=Anchor("pages/app.py", "@@ -1 +1 @@", "ab" * 32)) != pid


@pytest.mark.parametrize("anchor", [Anchor("", "@@", "ab"), Anchor("f", "@@", ""), Anchor("f\n", "@@", "ab"),
                                    Anchor("f", "@@ x\n", "ab"), Anchor("f", "@@", "a b"), Anchor("f" * 1001, "", "a"),
                                    Anchor("f", "@" * 501, "a"), Anchor("f", "", "a" * 129)])
def test_a_malformed_anchor_is_refused_and_folds_to_nothing(anchor):
    board = Board()
    gid = board.create(ALICE, others_weight=1)
    with pytest.raises(DraftError, match="diff"):
        board.post(gid, BOB, "Here.", anchor=anchor)
    from civitas_drafts.domain.ids import paragraph_hash
    from civitas_schema.v1 import draft_pb2

    forged = draft_pb2.DraftPosted(group=gid, author=BOB, paragraphs=[paragraph_hash("Here.")], texts=["Here."],
                                   posted_at_us=1, anchor=draft_pb2.DraftAnchor(file=anchor.file, hunk=anchor.hunk,
                                                                                revision=anchor.revision))
    before = dict(board.state.items)
    board.apply(NewEvent.of(forged, BOB))  # an unchecked event from elsewhere changes nothing
    assert board.state.items == before and gid not in board.state.anchored
