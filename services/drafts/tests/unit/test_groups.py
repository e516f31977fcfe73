"""Who may change a group: each version is accepted whole or refused whole, and never forks the chain."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civitas_kernel.events import NewEvent
from civitas_drafts.domain.decisions import first_version, next_version
from civitas_drafts.domain.errors import DraftError, ForkError, GroupChangeRefused
from civitas_drafts.domain.groups import Member, Version, check_first
from civitas_drafts.domain.ids import personal_group_id

from ..builders import ALICE, BOB, CAROL, DAVE, Board


@pytest.fixture
def board() -> Board:
    return Board()


def town(board: Board, **settings) -> str:
    """Alice (5) founds a public group that others join at up to 1; Bob (3) is added by her."""
    gid = board.create(ALICE, weight=5, others_weight=settings.pop("others_weight", 1), **settings)
    board.change(gid, ALICE, members=(Member(BOB, "bob", 3),))
    return gid


def refused(board: Board, gid: str, author: str, error=GroupChangeRefused, match: str = "", **changes) -> None:
    """The version is refused and the group is exactly as before."""
    before = dataclasses.replace(board.group(gid), members=dict(board.group(gid).members))
    with pytest.raises(error, match=match):
        board.change(gid, author, **changes)
    after = board.group(gid)
    assert (after.head, after.members, after.name, after.moderation_default_score) == (
        before.head, before.members, before.name, before.moderation_default_score)


def test_a_group_is_a_chain_of_versions_named_by_hashes(board):
    gid = town(board)
    group = board.group(gid)
    assert board.state.versions[gid] == gid
    assert group.versions == 2 and group.head != gid and board.state.versions[group.head] == gid
    assert [(m.voter, m.nickname, m.weight) for m in group.members.values()] == [(ALICE, "alice", 5), (BOB, "bob", 3)]
    # the same version is the same bytes and the same id everywhere
    version = first_version(ALICE, "Town hall", "alice", weight=5, others_weight=1, made_at_us=1)
    assert version.hash == gid and NewEvent.of(version.to_message(), ALICE).body == board.events[0].body


def test_the_founder_adds_nobody_weightier_than_themselves():
    version = first_version(ALICE, "Town hall", "alice", weight=2)
    heavier = dataclasses.replace(version, members=version.members + (Member(BOB, "bob", 3),))
    with pytest.raises(GroupChangeRefused, match="up to your own"):
        check_first(heavier)
    without_founder = dataclasses.replace(version, members=(Member(BOB, "bob", 1),))
    with pytest.raises(DraftError, match="one of its first members"):
        check_first(without_founder)


def test_a_voter_joins_an_open_group_at_most_at_its_others_weight(board):
    gid = town(board, others_weight=2)
    refused(board, gid, CAROL, match="up to 2", members=(Member(CAROL, "carol", 3),))
    board.join(gid, CAROL, weight=2)
    assert board.group(gid).weight(CAROL) == 2


def test_nobody_joins_a_private_or_closed_group_by_themselves(board):
    private = board.create(ALICE, private=True, others_weight=1, name="Council")
    refused(board, private, CAROL, match="private", members=(Member(CAROL, "carol", 0),))
    closed = board.create(ALICE, others_weight=0, name="Editors")
    refused(board, closed, CAROL, match="ask a member", members=(Member(CAROL, "carol", 0),))
    board.change(private, ALICE, members=(Member(CAROL, "carol", 0),))  # a member adds them
    assert board.group(private).weight(CAROL) == 0


def test_a_stranger_cannot_join_and_ban_the_founder_in_the_same_version(board):
    gid = town(board)
    refused(board, gid, CAROL, match="joining, a version adds only yourself",
            members=(Member(CAROL, "carol", 1), Member(ALICE, "alice", -5)))
    refused(board, gid, CAROL, match="adds only yourself", members=(Member(CAROL, "carol", 1),), removed=(BOB,))
    refused(board, gid, CAROL, match="adds only yourself", members=(Member(CAROL, "carol", 1),), name="Mine")
    refused(board, gid, CAROL, match="adds only yourself", members=(Member(DAVE, "dave", 1),))


def test_a_member_adds_members_up_to_their_own_weight(board):
    gid = town(board)
    refused(board, gid, BOB, match="up to your own \\(3\\)", members=(Member(CAROL, "carol", 4),))
    board.change(gid, BOB, members=(Member(CAROL, "carol", 3),))
    assert board.group(gid).weight(CAROL) == 3


def test_a_member_cannot_lower_one_whose_current_weight_is_higher_or_equal(board):
    gid = town(board)
    refused(board, gid, BOB, match="current weight \\(5\\) is below yours \\(3\\)",
            members=(Member(ALICE, "alice", 1),))
    board.change(gid, ALICE, members=(Member(CAROL, "carol", 3),))
    refused(board, gid, BOB, match="current weight \\(3\\) is below yours \\(3\\)",
            members=(Member(CAROL, "carol", 0),))
    refused(board, gid, BOB, match="remove alice", removed=(ALICE,))


def test_a_member_changes_lower_members_but_never_to_above_their_own(board):
    gid = town(board)
    board.change(gid, ALICE, members=(Member(CAROL, "carol", 1),))
    board.change(gid, BOB, members=(Member(CAROL, "carol", -2),))  # a ban
    assert board.group(gid).weight(CAROL) == -2
    refused(board, gid, BOB, match="up to your own \\(3\\)", members=(Member(CAROL, "carol", 4),))
    board.change(gid, BOB, members=(Member(CAROL, "cara", 3),))  # raised to equal, and renamed
    assert board.group(gid).member(CAROL) == Member(CAROL, "cara", 3)


def test_nobody_raises_their_own_weight_but_anyone_may_lower_it(board):
    gid = town(board)
    refused(board, gid, BOB, match="nobody raises their own weight", members=(Member(BOB, "bob", 4),))
    board.change(gid, BOB, members=(Member(BOB, "bob", 2),))
    assert board.group(gid).weight(BOB) == 2


def test_a_member_renames_only_lower_members(board):
    gid = town(board)
    refused(board, gid, BOB, match="change alice", members=(Member(ALICE, "boss", 5),))
    board.change(gid, ALICE, members=(Member(BOB, "robert", 3),))
    board.change(gid, ALICE, members=(Member(ALICE, "al", 5),))  # and themselves
    assert [m.nickname for m in board.group(gid).members.values()] == ["al", "robert"]


@pytest.mark.parametrize("nickname", ["bob", "BOB", "ｂｏｂ"])
def test_a_nickname_cannot_be_taken_over(board, nickname):
    gid = town(board)
    refused(board, gid, CAROL, match="taken", members=(Member(CAROL, nickname, 1),))
    refused(board, gid, ALICE, match="taken", members=(Member(CAROL, nickname, 1),))
    refused(board, gid, ALICE, match="taken", members=(Member(ALICE, nickname, 5),))


def test_a_left_members_nickname_stays_theirs_and_only_they_give_it(board):
    gid = town(board)
    board.change(gid, BOB, removed=(BOB,))  # bob leaves
    refused(board, gid, CAROL, match="only its holder", members=(Member(CAROL, "bob", 1),))
    refused(board, gid, ALICE, match="only its holder", members=(Member(CAROL, "bob", 1),))
    board.join(gid, BOB, nickname="bob")  # bob takes it back
    assert board.group(gid).member("bob").voter == BOB


def test_a_holder_gives_their_nickname_to_a_new_address_with_their_own_weight(board):
    gid = town(board)
    new_bob = "robert@example.net"
    refused(board, gid, BOB, match="holder's weight \\(3\\), not 2", removed=(BOB,),
            members=(Member(new_bob, "bob", 2),))
    board.change(gid, BOB, removed=(BOB,), members=(Member(new_bob, "bob", 3),))
    assert board.group(gid).member("bob") == Member(new_bob, "bob", 3) and board.group(gid).weight(BOB) is None


@pytest.mark.parametrize("members, removed, message", [
    ((Member(CAROL, "carol", 1), Member(CAROL, "caro", 1)), (), "listed twice"),
    ((Member(CAROL, "carol", 1), Member(DAVE, "Carol", 1)), (), "given twice"),
    ((Member("Carol@Example.org", "carol", 1),), (), "write the address"),
    ((Member("carol", "carol", 1),), (), "not a voter's email address"),
    ((Member(BOB, "bob", 1),), (BOB,), "both removed and set"),
    ((Member(CAROL, "x@y", 1),), (), "without '@'"),
    ((Member(CAROL, " carol", 1),), (), "outer spaces"),
    ((Member(CAROL, "carol", 10**7),), (), "a weight is a whole number"),
])
def test_duplicate_identities_and_malformed_members_are_refused(board, members, removed, message):
    gid = town(board)
    refused(board, gid, ALICE, DraftError, message, members=members, removed=removed)


def test_a_version_must_follow_the_current_head(board):
    gid = town(board)
    group = board.group(gid)
    stale = next_version(group, ALICE, members=(Member(CAROL, "carol", 1),), made_at_us=100)
    board.change(gid, ALICE, members=(Member(DAVE, "dave", 1),))
    with pytest.raises(ForkError, match="make your change again on the current version"):
        board.state.check_version(stale)
    orphan = dataclasses.replace(stale, parent="ab" * 32)
    with pytest.raises(DraftError, match="no group version"):
        board.state.check_version(orphan)


def test_leaving_and_removing(board):
    gid = town(board)
    board.change(gid, ALICE, members=(Member(CAROL, "carol", 1),))
    board.change(gid, BOB, removed=(CAROL,))  # lower: removed
    board.change(gid, ALICE, members=(Member(CAROL, "carol", -1),))
    refused(board, gid, CAROL, match="a banned member cannot leave", removed=(CAROL,))
    refused(board, gid, ALICE, DraftError, "not a member", removed=(DAVE,))
    board.change(gid, BOB, removed=(BOB,))
    assert list(board.group(gid).members) == [ALICE, CAROL]


def test_who_changes_the_settings(board):
    gid = town(board, others_weight=1)
    refused(board, gid, BOB, match="up to your own \\(3\\)", others_weight=4)
    board.change(gid, BOB, others_weight=3)
    refused(board, gid, BOB, match="highest weight \\(5\\) renames", name="Bob's hall")
    board.change(gid, ALICE, name="Alice's hall")
    board.change(gid, ALICE, members=(Member(CAROL, "carol", 0),))
    refused(board, gid, CAROL, match="weight is above 0 changes the default", default_score=2_000_000)
    board.change(gid, BOB, default_score=2_000_000)
    group = board.group(gid)
    assert (group.name, group.others_members_weight, group.moderation_default_score) == ("Alice's hall", 3, 2_000_000)


def test_privacy_is_chosen_once_and_empty_versions_are_refused(board):
    gid = town(board)
    version = next_version(board.group(gid), ALICE, made_at_us=50)
    with pytest.raises(GroupChangeRefused, match="never changes"):
        board.state.check_version(dataclasses.replace(version, private=True))
    with pytest.raises(DraftError, match="changes nothing"):
        board.state.check_version(version)


def test_a_voters_own_group_has_no_versions(board):
    own = board.state.group(personal_group_id(CAROL))
    assert [(m.voter, m.weight) for m in own.members.values()] == [(CAROL, 1)]
    with pytest.raises(GroupChangeRefused, match="own group has no versions"):
        board.change(own.id, CAROL, members=(Member(DAVE, "dave", 1),))


def test_a_refused_version_in_the_log_changes_nothing_when_folded(board):
    gid = town(board)
    bad = next_version(board.group(gid), CAROL, members=(Member(CAROL, "carol", 1), Member(ALICE, "alice", -5)))
    event = NewEvent.of(bad.to_message(), CAROL)
    head = board.group(gid).head
    board.apply(event)  # as if another site had written it without checking
    assert board.group(gid).head == head and board.group(gid).weight(ALICE) == 5
    forged = NewEvent.of(next_version(board.group(gid), ALICE, name="Forged").to_message(), BOB)
    board.apply(forged)  # an actor who is not the author
    assert board.group(gid).name == "Town hall"


VOTERS = [ALICE, BOB, CAROL, DAVE, "erin@example.org"]
member = st.builds(lambda voter, own_name, other, weight: (voter, voter.split("@")[0] if own_name else other, weight),
                   st.sampled_from(VOTERS), st.booleans(), st.sampled_from(["x", "y"]), st.integers(-3, 6))
joining = st.builds(lambda voter, weight: (voter, [(voter, voter.split("@")[0], weight)], [], None),
                    st.sampled_from(VOTERS), st.integers(0, 3))
changing = st.tuples(st.sampled_from(VOTERS), st.lists(member, max_size=3),
                     st.lists(st.sampled_from(VOTERS), max_size=1), st.one_of(st.none(), st.integers(0, 4)))
proposal = st.one_of(joining, changing)


@settings(max_examples=200, deadline=None)
@given(st.lists(proposal, max_size=25))
def test_no_accepted_version_touches_a_member_at_least_as_weighty_as_its_author(proposals):
    board = Board()
    gid = board.create(ALICE, weight=5, others_weight=2)
    for author, members, removed, others_weight in proposals:
        group = board.group(gid)
        before = dict(group.members)
        own = group.weight(author)
        try:
            board.change(gid, author, members=tuple(Member(*m) for m in members), removed=tuple(removed),
                         others_weight=others_weight)
        except (DraftError, GroupChangeRefused):
            assert board.group(gid).members == before
            continue
        after = board.group(gid).members
        if own is None:  # a join: only the author appears, at most at the others' weight
            assert set(after) - set(before) == {author} and {v: after[v] for v in before} == before
            assert after[author].weight <= group.others_members_weight
            continue
        for voter, member in before.items():
            if voter != author and member.weight >= own:
                assert after.get(voter) == member
        assert author not in after or after[author].weight <= own
        assert all(m.weight <= own for v, m in after.items() if v not in before or after[v] != before[v])
        nicknames = [m.nickname.casefold() for m in after.values()]
        assert len(nicknames) == len(set(nicknames))


def test_version_messages_round_trip():
    version = Version("ab" * 32, ALICE, "Hall", (Member(BOB, "bob", -2),), (CAROL,), 3, -500_000, False, 9)
    assert Version.from_message(version.to_message()) == version
