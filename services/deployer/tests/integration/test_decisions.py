"""Decisions as records: a proposal whose voting closed is decided once, from the log, and recounted by the audit."""

from __future__ import annotations

import functools
import json
import tarfile
from pathlib import Path

import pytest

from civitas_kernel.archive import open_archive, write_archive
from civitas_kernel.audit import audit_archive
from civitas_kernel.signing import SiteKey
from civitas_deployer import COMPILERS, ChangeCommands, DecisionRecords
from civitas_deployer.deciding import NotYetError, plan_of
from civitas_deployer.decision_record import KIND
from civitas_deployer.domain.choices import ChangeError

from ..git_repos import advance
from ..sites import ALICE, BOB, CAROL, DAVE, EMILY, Clock, patch_file

VOTING = 48 + 168  # the default review and voting hours: a proposal's window closes this long after it is made


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def change(make_clocked_log, live, lists, clock, tmp_path) -> ChangeCommands:
    log = make_clocked_log(clock)
    decisions = DecisionRecords(tmp_path / "records", log, clock)
    commands = ChangeCommands(log, live, lists, clock=clock, decisions=decisions)
    commands.run = functools.partial(commands.run, local=True)
    return commands


def propose(change, clone, tmp_path, files=None, title="About us") -> str:
    path = patch_file(clone, tmp_path, title.replace(" ", "-"), files or {"pages/about.md": "About us\n"})
    return change.run(ALICE, ["propose", "--patch", path, "--title", title]).data["proposal"]


def audit(change, summary) -> dict:
    return audit_archive(summary.archive, COMPILERS, public_key=change.log.key.public_key).as_dict()


def test_a_closed_proposal_is_decided_once_as_a_record_the_audit_recounts(change, clone, tmp_path, clock, lists):
    pid = propose(change, clone, tmp_path)
    clock.hours(48)
    change.run(BOB, ["vote", pid, "yes"])
    change.run(CAROL, ["vote", pid, "no"])
    change.run(DAVE, ["vote", pid, "yes"])
    change.run(EMILY, ["delegate", "*", BOB])
    assert change.decide().data == []  # still voting
    clock.hours(168)
    reply = change.decide()
    (made,) = reply.data
    assert made["proposal"] == pid and made["approved"] is True and made["record"] == 1
    assert made["tally"]["pages"] == {"yes": 3, "no": 1, "abstain": 0, "quorum_met": True, "majority_met": True,
                                      "approved": True}
    assert f"proposal {pid}, revision 1: APPROVED (decision 1" in reply.text
    assert change.decide().data == []  # decided once: a second round records nothing
    assert [p.name for p in (tmp_path / "records" / KIND).iterdir() if p.name.isdigit()] == ["000001"]

    shown = change.run(EMILY, ["show", pid])
    assert shown.data["phase"] == "approved" and shown.data["decision"]["record"] == 1
    assert shown.data["my_vote"]["pages"] == {"vote": "yes", "how": "delegated", "scope": "*", "chain": [EMILY, BOB]}
    assert "DECIDED: approved by decision 1" in shown.text
    assert change.run(BOB, ["list"]).data[0]["phase"] == "approved"

    report = audit(change, change.decision_of(change.state.proposals[pid]))
    assert report["matches"] is True and report["kind"] == KIND and report["events"] == 5
    archive = open_archive(made["archive"], public_key=change.log.key.public_key)
    config = json.loads(archive.read("config.json"))
    archive.close()
    base = change.state.proposals[pid].current.base_commit
    assert config["rules"]["governance.toml"]["blob"] == change.repo.git.out("rev-parse", f"{base}:governance.toml")
    assert config["voter_list"]["name"] == "list 1" and config["voter_list"]["text"].count("\n") == 6


def test_the_record_holds_the_delegations_of_the_close_and_only_ballots_on_the_decided_content(
        change, clone, tmp_path, clock):
    pid = propose(change, clone, tmp_path)
    clock.hours(48)
    change.run(BOB, ["vote", pid, "yes"])  # on revision 1: void once revised
    change.run(EMILY, ["delegate", "pages", CAROL])
    change.run(ALICE, ["revise", pid, "--patch", patch_file(clone, tmp_path, "r", {"pages/about.md": "Us\n"})])
    clock.hours(48)
    change.run(CAROL, ["vote", pid, "no"])
    clock.hours(168)
    with pytest.raises(ChangeError, match="closed"):
        change.run(BOB, ["vote", pid, "yes"])
    change.run(EMILY, ["delegate", "pages", DAVE])  # after the close: the decision does not see it
    change.run(DAVE, ["delegate", "*", BOB])
    (made,) = change.decide().data
    assert (made["revision"], made["approved"]) == (2, False)
    assert made["tally"]["pages"] == {"yes": 0, "no": 2, "abstain": 0, "quorum_met": True, "majority_met": False,
                                      "approved": False}
    assert change.run(EMILY, ["show", pid]).data["my_vote"]["pages"]["chain"] == [EMILY, CAROL]
    assert audit(change, change.decision_of(change.state.proposals[pid]))["matches"] is True


def test_no_decision_for_a_time_the_clock_has_not_reached(change, clone, tmp_path, clock):
    pid = propose(change, clone, tmp_path)
    with pytest.raises(NotYetError, match="later than the site's clock"):
        change.decide(clock() + VOTING * 3_600_000_000)
    clock.hours(VOTING)
    assert change.decide(clock() - 1).data == []  # a moment before its close: not due yet
    assert [d["proposal"] for d in change.decide(clock()).data] == [pid]


def test_a_decision_snapped_before_a_crash_is_finished_not_made_again(change, clone, tmp_path, clock):
    pid = propose(change, clone, tmp_path)
    clock.hours(48)
    change.run(BOB, ["vote", pid, "yes"])
    clock.hours(168)
    plan = plan_of(change, change.state.proposals[pid])
    change.decisions.store(plan).snap(KIND)  # the process stops here, before ready
    assert change.run(BOB, ["show", pid]).data["decision"] is None
    restarted = ChangeCommands(change.log, change.repo, change.electorates.lists, clock=clock,
                               decisions=DecisionRecords(tmp_path / "records", change.log, clock))
    (made,) = restarted.decide().data
    assert made["record"] == 1 and made["approved"] is True
    assert restarted.decide().data == []


def _forge(archive_path, approved_from: bytes, approved_to: bytes) -> None:
    """Rewrite a decision's result and sign the archive again with a key that is not the site's."""
    archive_path = Path(archive_path)
    with tarfile.open(archive_path) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    manifest = json.loads(members.pop("manifest.json"))
    members.pop("signature.json")
    events = archive_path.with_name("events.seg")
    events.write_bytes(members.pop("events.seg"))
    members["result.tsv"] = members["result.tsv"].replace(approved_from, approved_to)
    for key in ("files", "public_key", "format"):
        manifest.pop(key)
    write_archive(archive_path, manifest, members, events, SiteKey.generate())
    events.unlink()


def test_approved_is_only_a_record_the_site_signed(change, clone, tmp_path, clock):
    pid = propose(change, clone, tmp_path)
    clock.hours(48)
    change.run(BOB, ["vote", pid, "no"])
    clock.hours(168)
    (made,) = change.decide().data
    assert made["approved"] is False
    _forge(made["archive"], b"approved\t0", b"approved\t1")
    fresh = DecisionRecords(tmp_path / "records", change.log, clock)
    assert fresh.decided() == {}  # the forged record decides nothing
    change.decisions = fresh
    assert change.run(BOB, ["show", pid]).data["phase"] == "closed"
    (again,) = change.decide().data  # decided again, from the log: still not approved
    assert again["record"] == 2 and again["approved"] is False


def test_inactive_voters_are_left_out_at_the_close(change, clone, tmp_path, clock):
    rules = clone.path.joinpath("governance.toml").read_text()
    advance(change.repo, open(patch_file(clone, tmp_path, "rules", {
        "governance.toml": rules.replace("inactive_after_days = 0", "inactive_after_days = 3")}), "rb").read())
    change.run(BOB, ["delegate", "*", CAROL])
    pid = propose(change, clone, tmp_path)
    clock.hours(150)
    change.run(DAVE, ["vote", pid, "yes"])
    clock.hours(50)
    change.run(CAROL, ["vote", pid, "no"])
    clock.hours(16)
    (made,) = change.decide().data
    # Bob (delegating to Carol) and Alice acted more than 3 days before the close; Emily never did
    assert made["electorate"] == 2 and made["tally"]["pages"]["no"] == 1 and made["tally"]["pages"]["yes"] == 1
    assert change.run(BOB, ["show", pid]).data["my_vote"] == {"pages": None}
