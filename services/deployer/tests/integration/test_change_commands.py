"""Voters through ChangeCommands over real SQLite and PostgreSQL logs and a real live repository."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from civitas_kernel.commands import CommandError, ConflictError, NotFoundError
from civitas_deployer import ChangeCommands
from civitas_deployer.domain.choices import ChangeError
from civitas_deployer.domain.rules import RulesError
from civitas_deployer.domain.windows import HOUR_US
from civitas_deployer.electorates import NotEligibleError
from civitas_deployer.live_repo import BaseNotLive, PatchRefused

from ..git_repos import advance
from ..sites import ALICE, BOB, CAROL, DAVE, EMILY, Clock, patch_file


@pytest.fixture
def change(make_log, live, lists) -> ChangeCommands:
    commands = ChangeCommands(make_log(), live, lists, clock=Clock())
    commands.run = functools.partial(commands.run, local=True)  # the voter shell on the site's own machine
    return commands


def propose(change, clone, tmp_path, files=None, voter=ALICE, title="About us") -> str:
    path = patch_file(clone, tmp_path, title.replace(" ", "-"), files or {"pages/about.md": "About us\n"})
    return change.run(voter, ["propose", "--patch", path, "--title", title]).data["proposal"]


def test_propose_review_vote_and_show(change, clone, tmp_path):
    reply = change.run(ALICE, ["propose", "--patch", patch_file(clone, tmp_path, "p", {"pages/about.md": "Hi\n"}),
                               "--title", "An about page"])
    pid, content = reply.data["proposal"], reply.data["content_hash"]
    assert pid == "1" and f"content {content}" in reply.text and "changes 1 path(s) in pages" in reply.text
    assert change.repo.kept("1", 1) == reply.data["result_commit"]
    with pytest.raises(ChangeError, match="in review; voting opens at"):
        change.run(BOB, ["vote", pid, "yes"])
    change.clock.hours(48)
    vote = change.run(BOB, ["vote", pid, "yes"])
    assert vote.text == f"you vote yes on proposal 1, revision 1: content {content}"
    change.run(CAROL, ["vote", pid, "no"])
    change.run(DAVE, ["vote", pid, "yes", "--hash", content[:12]])
    shown = change.run(BOB, ["show", pid])
    assert shown.data["tally"] == {"pages": {"yes": 2, "no": 1, "abstain": 0, "quorum_met": True,
                                             "majority_met": True, "approved": True}}
    assert "your vote in pages: yes, your own vote" in shown.text
    change.run(BOB, ["unvote", pid])
    assert change.tally(pid).tallies[0].yes == 1
    assert [e.type.rsplit(".", 1)[1] for e in change.log.read("change")] == [
        "ProposalProposed", "ChangeVoteCast", "ChangeVoteCast", "ChangeVoteCast", "ChangeVoteWithdrawn"]
    assert "An about page" in change.run(BOB, ["list"]).text


def test_a_revision_voids_the_votes_tells_their_voters_and_opens_a_new_window(change, clone, tmp_path):
    pid = propose(change, clone, tmp_path)
    change.clock.hours(50)
    old = change.state.proposals[pid].current.content_hash
    change.run(BOB, ["vote", pid, "yes"])
    change.run(CAROL, ["vote", pid, "no"])
    path = patch_file(clone, tmp_path, "rev", {"pages/about.md": "About us, revised\n"})
    with pytest.raises(ChangeError, match="only its proposer"):
        change.run(BOB, ["revise", pid, "--patch", path])
    reply = change.run(ALICE, ["revise", pid, "--patch", path])
    assert reply.data["voided"] == [BOB, CAROL] and "2 direct vote(s) on the earlier revision are void" in reply.text
    shown = change.run(CAROL, ["show", pid])
    assert f"your vote no on the earlier revision {old[:12]} is void since revision 2" in shown.text
    assert shown.data["tally"]["pages"]["yes"] == shown.data["tally"]["pages"]["no"] == 0
    with pytest.raises(ChangeError, match="in review"):  # a full new window: review first
        change.run(CAROL, ["vote", pid, "no"])
    change.clock.hours(48)
    with pytest.raises(ConflictError, match="is not the current revision of proposal 1: it is revision 2"):
        change.run(BOB, ["vote", pid, "yes", "--hash", old[:12]])
    change.run(CAROL, ["vote", pid, "no"])
    assert change.run(CAROL, ["show", pid]).data["voided"] is None
    assert change.repo.kept(pid, 2) == change.state.proposals[pid].current.result_commit


def test_delegation_per_module_all_of_several_and_none(change, clone, tmp_path):
    pid = propose(change, clone, tmp_path, {"pages/a.md": "a\n", "README.md": "site\n"})
    change.clock.hours(48)
    change.run(BOB, ["delegate", "*", CAROL])
    change.run(BOB, ["delegate", "pages", DAVE, EMILY])
    change.run(ALICE, ["delegate", "site", "none"])
    change.run(ALICE, ["delegate", "*", BOB])
    change.run(CAROL, ["vote", pid, "no"])
    change.run(DAVE, ["vote", pid, "yes"])
    change.run(EMILY, ["vote", pid, "abstain"])
    shown = change.run(BOB, ["show", pid])
    assert shown.data["my_vote"]["pages"] == {"vote": None, "how": "disagree", "scope": "pages",
                                              "chain": [BOB, f"{DAVE}+{EMILY}"]}
    assert f"your delegates {DAVE} and {EMILY} do not agree" in shown.text
    assert shown.data["my_vote"]["site"]["vote"] == "no"
    change.run(EMILY, ["vote", pid, "yes"])
    alice = change.run(ALICE, ["show", pid]).data["my_vote"]
    assert alice["pages"] == {"vote": "yes", "how": "delegated", "scope": "*", "chain": [ALICE, BOB, f"{DAVE}+{EMILY}"]}
    assert alice["site"]["how"] == "none"
    mine = change.run(BOB, ["delegate"])
    assert mine.data["delegations"] == {"*": [CAROL], "pages": [DAVE, EMILY]}
    assert mine.data["delegators"] == {"*": [ALICE]}
    change.run(BOB, ["undelegate", "pages"])
    assert change.run(BOB, ["show", pid]).data["my_vote"]["pages"]["vote"] == "no"


def test_mistakes_are_refused_and_write_nothing(change, clone, tmp_path, lists):
    outsider = "zed@example.org"
    good = patch_file(clone, tmp_path, "good", {"pages/a.md": "a\n"})
    clone.write("pages/logo.png", b"\x00\x01binary")
    clone.commit("a logo")
    binary = tmp_path / "binary.patch"
    binary.write_bytes(clone.patch(1, "--binary"))
    objects = change.repo.git.out("count-objects", "-v")
    cases = [
        (NotEligibleError, "zed@example.org is not on the voter list \\(list 1\\); only voters may propose",
         outsider, ["propose", "--patch", good, "--title", "t"]),
        (PatchRefused, "pages/logo.png is a binary file", ALICE, ["propose", "--patch", str(binary), "--title", "t"]),
        (ChangeError, "a title of 1 to 200 characters", ALICE, ["propose", "--patch", good, "--title", " "]),
        (CommandError, "cannot read the patch", ALICE, ["propose", "--patch", str(tmp_path / "nope"), "--title", "t"]),
        (CommandError, "write `change propose --patch FILE --title TITLE", ALICE, ["propose", "--patch", good]),
        (CommandError, "no command 'approve'", ALICE, ["approve", "1"]),
        (NotFoundError, "no proposal '7'", ALICE, ["vote", "7", "yes"]),
        (NotEligibleError, "not on the voter list \\(list 1\\); only voters may delegate", outsider,
         ["delegate", "*", BOB]),
        (NotEligibleError, "zed@example.org is not on the voter list \\(list 1\\); delegate to voters only", ALICE,
         ["delegate", "*", outsider]),
        (ChangeError, "cannot delegate to yourself", ALICE, ["delegate", "*", ALICE]),
        (ChangeError, "no module 'pagez'", ALICE, ["delegate", "pagez", BOB]),
        (ChangeError, "no delegation for \\* to remove", ALICE, ["undelegate", "*"]),
        (CommandError, "not an email address", ALICE, ["delegate", "*", "bob"]),
    ]
    for error, words, voter, args in cases:
        with pytest.raises(error, match=words):
            change.run(voter, args)
    assert change.log.head("change").seq == 0
    assert change.repo.git.out("count-objects", "-v") == objects


def test_the_rules_at_the_base_judge_a_change_to_the_rules(change, clone, tmp_path):
    rules = clone.path.joinpath("governance.toml").read_text()
    loosened = rules.replace('majority = "2/3"', 'majority = "1/10"')
    pid = propose(change, clone, tmp_path, {"governance.toml": loosened}, title="Easier changes")
    shown = change.run(BOB, ["show", pid])
    assert shown.data["constitutional"] and shown.data["thresholds"]["majority"] == "2/3"
    assert shown.data["closes_at_us"] - shown.data["opens_at_us"] == 336 * HOUR_US
    change.clock.hours(48 + 200)  # past an ordinary window, within the constitutional one
    change.run(BOB, ["vote", pid, "yes"])
    change.run(CAROL, ["vote", pid, "no"])
    change.run(DAVE, ["vote", pid, "no"])
    assert not change.tally(pid).approved  # 1 of 3 would pass its own rule, not the one in force


def test_a_change_that_would_break_the_rules_is_refused(change, clone, tmp_path):
    path = patch_file(clone, tmp_path, "broken", {"modules.toml": "[modules.pages\n"})
    with pytest.raises(RulesError, match="would break the site's rules: modules.toml after this change is not valid"):
        change.run(ALICE, ["propose", "--patch", path, "--title", "Oops"])
    assert change.log.head("change").seq == 0


def test_malformed_rules_at_the_base_are_named_and_nothing_is_written(change, clone, tmp_path):
    clone.write("governance.toml", '[voting]\nquorum = 0.1\n')
    clone.commit("rules changed outside civitas")
    broken = advance(change.repo, clone.patch())
    path = patch_file(clone, tmp_path, "p", {"pages/a.md": "a\n"})
    with pytest.raises(RulesError, match=f"governance.toml at {broken[:12]}: \\[voting\\] quorum must be a fraction"):
        change.run(ALICE, ["propose", "--patch", path, "--title", "A page"])
    assert change.log.head("change").seq == 0


def test_only_voters_on_the_recorded_list_vote(change, clone, tmp_path, lists):
    pid = propose(change, clone, tmp_path)
    lists.report(ALICE, BOB, CAROL, DAVE, EMILY, "newcomer@example.org")
    change.clock.hours(48)
    with pytest.raises(NotEligibleError, match="newcomer@example.org is not on the voter list \\(list 1\\), "
                                               "the list proposal 1 is voted by"):
        change.run("newcomer@example.org", ["vote", pid, "yes"])
    lists.report(ALICE, BOB, trust=0)
    assert change.run(CAROL, ["vote", pid, "yes"]).data["choice"] == "yes"  # list 1 still decides
    assert change.tally(pid).electorate == 5


def test_a_stale_base_is_refused_and_a_revision_rebases(change, clone, tmp_path):
    pid = propose(change, clone, tmp_path, {"pages/a.md": "a\n"})
    old = change.repo.head()
    clone.sync()
    clone.write("pages/b.md", "b\n")
    clone.commit("b")
    stale = tmp_path / "stale.patch"
    stale.write_bytes(clone.patch(1, f"--base={old}"))
    other = patch_file(clone, tmp_path, "other", {"pages/c.md": "c\n"})
    advance(change.repo, Path(other).read_bytes())
    with pytest.raises(BaseNotLive, match="no longer live"):
        change.run(BOB, ["propose", "--patch", str(stale), "--title", "b"])
    path = patch_file(clone, tmp_path, "rebased", {"pages/a.md": "a, again\n"})
    revised = change.run(ALICE, ["revise", pid, "--patch", path]).data
    assert revised["base_commit"] == change.repo.head() != old and revised["revision"] == 2


def test_a_retried_proposal_with_its_key_proposes_once(change, clone, tmp_path):
    path = patch_file(clone, tmp_path, "p", {"pages/a.md": "a\n"})
    first = change.run(ALICE, ["propose", "--patch", path, "--title", "A"], idempotency_key="k1")
    again = change.run(ALICE, ["propose", "--patch", path, "--title", "A"], idempotency_key="k1")
    assert first.data["proposal"] == again.data["proposal"] == "1" and change.log.head("change").seq == 1
    with pytest.raises(ChangeError, match="proposal 1 proposes this very change already"):
        change.run(BOB, ["propose", "--patch", path, "--title", "A"])


def test_withdrawn_proposals_take_no_votes_and_refs_are_repaired(change, clone, tmp_path, make_log, live, lists):
    pid = propose(change, clone, tmp_path)
    change.clock.hours(48)
    with pytest.raises(ChangeError, match="only its proposer"):
        change.run(BOB, ["withdraw", pid])
    change.run(ALICE, ["withdraw", pid])
    with pytest.raises(ChangeError, match="was withdrawn"):
        change.run(BOB, ["vote", pid, "yes"])
    assert "withdrawn" in change.run(BOB, ["list"]).text
    live.git.run("update-ref", "-d", "refs/proposals/1/1")
    fresh = ChangeCommands(change.log, live, lists, clock=change.clock)
    fresh.repair_refs()
    assert live.kept("1", 1) == change.state.proposals[pid].current.result_commit


def test_help_explains_every_command(change):
    text = change.run(ALICE, ["help"]).text
    for command in ("propose", "revise", "withdraw", "vote", "unvote", "delegate", "undelegate", "show", "list"):
        assert f"\n{command}" in text
    assert change.run(ALICE, ["vote", "--help"]).text.startswith("vote ID yes|no|abstain")
    with pytest.raises(CommandError, match="write `change show ID`"):
        change.run(ALICE, ["show"])
