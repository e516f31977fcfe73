"""Voters through DraftCommands, as the voter shell types them, on every log backend."""

from __future__ import annotations

import pytest

from civitas_kernel.commands import CommandError, ForbiddenError, NotFoundError
from civitas_kernel.events import NewEvent
from civitas_drafts.commands import DraftCommands
from civitas_drafts.domain.decisions import next_version, own_sum
from civitas_drafts.domain.errors import GroupChangeRefused, TooLargeError, VoteValueError
from civitas_drafts.domain.groups import Member
from civitas_drafts.domain.posts import MAX_PARAGRAPH_BYTES
from civitas_drafts.domain.views import group_scores

ALICE, BOB, CAROL, DAVE = "alice@example.org", "bob@example.org", "carol@example.org", "dave@example.org"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        self.now += 1
        return self.now


@pytest.fixture
def drafts(make_log) -> DraftCommands:
    return DraftCommands(make_log(), clock=Clock())


def hall(drafts: DraftCommands) -> str:
    """Alice (5) founds a public hall joiners enter at 1; Bob joins."""
    gid = drafts.run(ALICE, ["group", "create", "Town", "hall", "--weight", "5", "--others-weight", "1"]).data["id"]
    drafts.run(BOB, ["group", "join", gid[:8]])
    return gid


def head(drafts: DraftCommands) -> int:
    return drafts.log.head("draft").seq


def test_groups_posts_amendments_and_votes_end_to_end(drafts):
    gid = hall(drafts)
    drafts.run(ALICE, ["group", "add", gid[:8], CAROL, "carol", "3"])
    members = drafts.run(DAVE, ["group", "members", "Town hall"]).data["members"]
    assert [(m["nickname"], m["weight"]) for m in members] == [("alice", 5), ("carol", 3), ("bob", 1)]
    pid = drafts.run(BOB, ["post", gid[:8], "Plant trees.", "Many of them."]).data["post"]
    drafts.run(CAROL, ["vote", "up", pid[:8]])
    drafts.run(ALICE, ["vote", "down", f"{pid[:8]}#2"])
    reply = drafts.run(CAROL, ["reply", f"{pid[:8]}#2", "How many?"]).data["post"]
    alternative = drafts.run(CAROL, ["amend", pid[:8], "Plant trees.", "A hundred of them."]).data["changed"]
    assert drafts.run(BOB, ["amend", pid[:8], "Plant oaks.", "Many of them."]).data["changed"] == pid
    drafts.run(ALICE, ["vote", "0.5", alternative[:8]])
    shown = drafts.run(DAVE, ["show", gid[:8]]).data["posts"]
    # the alternative: carol's own +1 (3) and alice's 0.5 (5 x 0.5); the post: bob's +1 and carol's up (1 + 3)
    assert [(p["post"], p["score"]) for p in shown] == [(pid, "5.5"), (reply, "3")]
    assert shown[0]["chosen"] == alternative and shown[0]["paragraphs"] == ["Plant trees.", "A hundred of them."]
    post = drafts.run(DAVE, ["show", pid[:8]]).data
    own, other = post["versions"]
    assert [(e["text"], e["status"]) for e in own["entries"]] == [
        ("Plant trees.", "replaced"), ("Plant oaks.", "live"), ("Many of them.", "live")]
    assert own["score"] == "4" and other["score"] == "5.5" and post["replies"] == [reply]
    assert [e["score"] for e in own["entries"]] == ["0", "0", "-5"]  # the paragraph vote, on that paragraph only
    assert head(drafts) == 10


def test_group_changes_follow_the_rules_and_refusals_write_nothing(drafts):
    gid = hall(drafts)
    written = head(drafts)
    with pytest.raises(GroupChangeRefused, match="current weight \\(5\\) is below yours \\(1\\)"):
        drafts.run(BOB, ["group", "set-weight", gid[:8], "alice", "-1"])
    with pytest.raises(GroupChangeRefused, match="up to 1"):
        drafts.run(CAROL, ["group", "join", gid[:8], "--weight", "2"])
    with pytest.raises(GroupChangeRefused, match="taken"):
        drafts.run(CAROL, ["group", "join", gid[:8], "--nickname", "Alice"])
    with pytest.raises(GroupChangeRefused, match="nobody raises their own weight"):
        drafts.run(BOB, ["group", "set-weight", gid[:8], "bob", "2"])
    with pytest.raises(GroupChangeRefused, match="highest weight"):
        drafts.run(BOB, ["group", "set", gid[:8], "--name", "Bob's"])
    with pytest.raises(CommandError, match="whole number"):
        drafts.run(ALICE, ["group", "set-weight", gid[:8], "bob", "1.5"])
    with pytest.raises(NotFoundError, match="not a member"):
        drafts.run(ALICE, ["group", "remove", gid[:8], "carol"])
    assert head(drafts) == written
    drafts.run(ALICE, ["group", "set-weight", gid[:8], "bob", "-1"])
    with pytest.raises(GroupChangeRefused, match="banned member cannot leave"):
        drafts.run(BOB, ["group", "leave", gid[:8]])
    assert head(drafts) == written + 1


def test_bad_posts_and_votes_write_nothing(drafts):
    gid = hall(drafts)
    pid = drafts.run(BOB, ["post", gid[:8], "Hello."]).data["post"]
    written = head(drafts)
    for value, message in [("nan", "finite"), ("inf", "finite"), ("1e400", "too large"), ("10000", "too large")]:
        with pytest.raises(VoteValueError, match=message):
            drafts.run(ALICE, ["vote", value, pid[:8]])
    with pytest.raises(TooLargeError, match="a paragraph is at most"):
        drafts.run(BOB, ["post", gid[:8], "x" * (MAX_PARAGRAPH_BYTES + 1)])
    with pytest.raises(ForbiddenError, match="only members vote"):
        drafts.run(CAROL, ["vote", "up", pid[:8]])
    with pytest.raises(NotFoundError, match="no group"):
        drafts.run(BOB, ["post", "nowhere", "Hello."])
    with pytest.raises(CommandError, match="paragraphs 1 to 1"):
        drafts.run(ALICE, ["vote", "up", f"{pid[:8]}#2"])
    with pytest.raises(CommandError, match="no command 'shout'"):
        drafts.run(ALICE, ["shout"])
    with pytest.raises(CommandError, match="not an email address"):
        drafts.run("alice", ["help"])
    assert head(drafts) == written


def test_a_private_group_is_seen_by_its_members_only(drafts):
    gid = drafts.run(ALICE, ["group", "create", "Council", "--private"]).data["id"]
    drafts.run(ALICE, ["group", "add", gid[:8], BOB, "bob", "1"])
    pid = drafts.run(BOB, ["post", gid[:8], "Budget secrets."]).data["post"]
    with pytest.raises(NotFoundError):
        drafts.run(CAROL, ["show", gid[:8]])
    with pytest.raises(NotFoundError):
        drafts.run(CAROL, ["show", pid[:8]])
    with pytest.raises(NotFoundError):
        drafts.run(CAROL, ["group", "join", gid[:8]])
    assert drafts.query(CAROL, "SELECT count(*) FROM paragraphs").data["rows"] == [[0]]
    assert drafts.query(BOB, "SELECT text FROM paragraphs").data["rows"] == [["Budget secrets."]]
    assert [g["name"] for g in drafts.run(CAROL, ["group", "list"]).data] == []


def test_two_writers_never_fork_a_group(drafts):
    gid = hall(drafts)
    other = DraftCommands(drafts.log, clock=drafts.clock)
    other.catch_up()
    drafts.run(ALICE, ["group", "add", gid[:8], CAROL, "carol", "1"])
    other.run(ALICE, ["group", "add", gid[:8], DAVE, "dave", "1"])  # decided again on the fresh head
    drafts.catch_up()
    group = drafts.state.group(gid)
    assert list(group.members) == [ALICE, BOB, CAROL, DAVE] and group.versions == 4
    stale = next_version(group, ALICE, members=(Member("erin@example.org", "erin", 1),))
    forked = NewEvent.of(stale.__class__(**{**stale.__dict__, "parent": gid}).to_message(), ALICE)
    drafts.log.append("draft", [forked], expected_seq=head(drafts))  # as a careless site might write it
    drafts.catch_up()
    assert drafts.state.group(gid).head == group.head and "erin@example.org" not in group.members


def test_a_retried_command_with_its_key_acts_once(drafts):
    gid = hall(drafts)
    pid = drafts.run(BOB, ["post", gid[:8], "Hello."]).data["post"]
    drafts.run(ALICE, ["vote", "1", pid[:8]], idempotency_key="k1")
    again = drafts.run(ALICE, ["vote", "1", pid[:8]], idempotency_key="k1")
    assert again.data["post"] == pid
    assert own_sum(drafts.state, ALICE, gid, pid) == 1_000_000 and head(drafts) == 4


def test_another_voters_command_under_the_same_key_is_no_retry_and_is_applied(drafts):
    gid = hall(drafts)
    drafts.run(ALICE, ["group", "add", gid[:8], CAROL, "carol", "3"])
    pid = drafts.run(BOB, ["post", gid[:8], "Hello."]).data["post"]
    drafts.run(ALICE, ["vote", "1", pid[:8]], idempotency_key="form-1")
    drafts.run(CAROL, ["vote", "1", pid[:8]], idempotency_key="form-1")  # the same key, another voter's own command
    assert own_sum(drafts.state, CAROL, gid, pid) == 1_000_000 and head(drafts) == 6


def test_a_replay_of_the_log_derives_the_same_state(drafts):
    gid = hall(drafts)
    pid = drafts.run(BOB, ["post", gid[:8], "Hello.", "World."]).data["post"]
    drafts.run(ALICE, ["vote", "-0.25", pid[:8]])
    drafts.run(ALICE, ["group", "set", gid[:8], "--default-score", "0.5"])
    replayed = DraftCommands(drafts.log)
    replayed.catch_up()
    assert group_scores(replayed.state, gid) == group_scores(drafts.state, gid) == {pid: 1_500_000 - 1_250_000}
    assert replayed.state.groups == drafts.state.groups and replayed.state.items == drafts.state.items
    assert replayed.query(DAVE, "SELECT * FROM scores").data == drafts.query(DAVE, "SELECT * FROM scores").data


def test_help(drafts):
    assert "group create NAME" in drafts.run(ALICE, ["help"]).text
    assert drafts.run(ALICE, ["vote", "--help"]).text.startswith("vote up|down|clear")
    assert "post_paragraphs(post_id, position" in drafts.run(ALICE, ["query", "--help"]).text


def test_group_change_sets_a_members_weight_and_nickname_in_one_version(drafts):
    gid = hall(drafts)
    before = head(drafts)
    reply = drafts.run(ALICE, ["group", "change", gid[:8], "bob", "--weight", "3", "--nickname", "Robert"])
    assert head(drafts) == before + 1 and "version" in reply.text
    member = drafts.state.group(gid).members[BOB]
    assert (member.nickname, member.weight) == ("Robert", 3)
    with pytest.raises(GroupChangeRefused, match="current weight"):  # bob (3) renames alice (5): refused whole
        drafts.run(BOB, ["group", "change", gid[:8], "alice", "--weight", "1", "--nickname", "al"])
    with pytest.raises(CommandError, match="one or both"):
        drafts.run(ALICE, ["group", "change", gid[:8], "bob"])
    assert head(drafts) == before + 1


def test_a_post_in_answer_to_a_hunk_names_a_file_and_a_revision(drafts):
    gid = hall(drafts)
    pid = drafts.run(BOB, ["post", gid[:8], "--file", "pages/app.py", "--hunk", "@@ -1 +1 @@", "--revision",
                           "ab" * 32, "--", "--looks like an option"]).data["post"]
    item = drafts.state.items[pid]
    assert (item.anchor.file, item.anchor.hunk) == ("pages/app.py", "@@ -1 +1 @@")
    assert drafts.state.paragraphs[item.text[0]] == "--looks like an option"
    before = head(drafts)
    with pytest.raises(CommandError, match="--file PATH and --revision"):
        drafts.run(BOB, ["post", gid[:8], "--hunk", "@@ -1 +1 @@", "Where?"])
    assert head(drafts) == before
