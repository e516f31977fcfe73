"""What the pages read of a proposal beside its tally: its diff, who follows whom in each module (the reader's chain
first, bounded), and a voter's delegations; over a real SQLite log and a real live repository."""

from __future__ import annotations

import functools

import pytest

from civitas_kernel.commands import NotFoundError
from civitas_deployer import ChangeCommands
from civitas_deployer.views import delegation_graph

from ..sites import ALICE, BOB, CAROL, DAVE, EMILY, Clock, patch_file


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def change(make_log, live, lists) -> ChangeCommands:
    commands = ChangeCommands(make_log(), live, lists, clock=Clock())
    commands.run = functools.partial(commands.run, local=True)
    return commands


def test_the_diff_is_gits_and_the_graph_follows_each_modules_delegation(change, clone, tmp_path):
    path = patch_file(clone, tmp_path, "p", {"pages/about.md": "About us\n", "polls/mayor.toml": "title = 'M'\n"})
    pid = change.run(ALICE, ["propose", "--patch", path, "--title", "Two modules"]).data["proposal"]
    diff = change.diff(pid).data
    assert "+About us" in diff["diff"] and "diff --git a/polls/mayor.toml b/polls/mayor.toml" in diff["diff"]
    assert not diff["cut"] and diff["revision"] == 1
    with pytest.raises(NotFoundError, match="revisions 1 to 1, not 2"):
        change.diff(pid, 2)
    change.clock.hours(48)
    change.run(BOB, ["vote", pid, "yes"])
    change.run(CAROL, ["delegate", "*", BOB])
    change.run(CAROL, ["delegate", "polls", "none"])  # blocks * in polls
    change.run(DAVE, ["delegate", "pages", CAROL])
    change.run(EMILY, ["delegate", "*", BOB])
    change.run(EMILY, ["vote", pid, "no"])  # a voter who votes follows nobody
    graph = change.graph(pid, DAVE).data["modules"]
    assert graph["pages"]["links"] == [[DAVE, CAROL], [CAROL, BOB]]  # my chain first
    assert graph["pages"]["voters"][DAVE] == {"vote": "yes", "how": "delegated", "scope": "pages"}
    assert graph["polls"]["links"] == []
    mine = change.delegations(CAROL).data
    assert mine["delegations"] == {"*": [BOB], "polls": []} and mine["delegators"] == {"pages": [DAVE]}


def test_the_graph_is_bounded_and_keeps_the_readers_part(change, clone, tmp_path, lists):
    voters = [f"v{i}@example.org" for i in range(40)]
    lists.report(ALICE, BOB, CAROL, DAVE, EMILY, *voters)
    pid = change.run(ALICE, ["propose", "--patch", patch_file(clone, tmp_path, "p", {"pages/a.md": "a\n"}),
                             "--title", "A"]).data["proposal"]
    for voter in voters:
        change.run(voter, ["delegate", "pages", BOB])
    change.run(DAVE, ["delegate", "pages", voters[-1]])
    drawn = delegation_graph(change, pid, DAVE, limit=5).data["modules"]["pages"]
    assert drawn["links"][:2] == [[DAVE, voters[-1]], [voters[-1], BOB]] and len(drawn["links"]) == 5
    assert drawn["links_left_out"] == 41 - 5
