"""README's walkthrough, through the real `civitas` entry point: simulate, compile, count, audit."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import time

import pytest

from civitas.cli import main
from civitas.exit_status import ExitStatus


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("CIVITAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CIVITAS_SITE", "localhost")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "home"


def run(capsys, *args, stdin: str | None = None, monkeypatch=None) -> tuple[ExitStatus, str, str]:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_the_simulated_tie(home, capsys, monkeypatch):
    assert run(capsys, "poll", "create", "test-poll")[0] == ExitStatus.SUCCESS
    status, lines, _ = run(capsys, "sim", "ab", "1-3")
    assert status == ExitStatus.SUCCESS
    status, out, err = run(capsys, "voter", stdin=lines, monkeypatch=monkeypatch)
    assert status == ExitStatus.SUCCESS, err
    assert out.count("you now vote for sim-") == 6

    status, out, _ = run(capsys, "list")
    assert status == ExitStatus.SUCCESS and "report  list 1  MR" in out
    status, out, _ = run(capsys, "count")
    assert status == ExitStatus.SUCCESS and "against list 1" in out

    status, out, _ = run(capsys, "count", "show", "test-poll", "--json")
    shown = json.loads(out)
    assert shown["turnout"] == 6
    assert [(r["rank"], r["candidate"], r["receive"]) for r in shown["ranking"]] == [
        (1, "sim-a@sim.example.org", 3), (1, "sim-b@sim.example.org", 3)]

    status, out, _ = run(capsys, "list", "show", "--json")
    assert {e["voter"] for e in json.loads(out)} == {f"{g}{n}@sim.example.org" for g in "ab" for n in (1, 2, 3)}

    archive = home / "records" / "count" / "000001" / "archive.tar"
    status, out, _ = run(capsys, "audit", str(archive), "--json")
    assert status == ExitStatus.SUCCESS and json.loads(out)["matches"] is True
    status, out, _ = run(capsys, "audit", str(home / "records" / "list" / "000001" / "archive.tar"))
    assert status == ExitStatus.SUCCESS and "matches byte for byte" in out


def test_a_vote_reply_traces_the_reported_count(home, capsys, monkeypatch):
    run(capsys, "poll", "create", "test-poll")
    lines = "\n".join([
        "a@x.org register set residence 1 Elm St, Springfield 90210",
        "b@x.org register set residence 2 Elm St, Springfield 90210",
        "a@x.org test-poll vote b@x.org",
        "b@x.org test-poll vote c@x.org",
    ])
    run(capsys, "voter", stdin=lines, monkeypatch=monkeypatch)
    run(capsys, "list")
    run(capsys, "count")
    status, out, _ = run(capsys, "voter", "a@x.org", "test-poll", "vote")
    assert "in the reported count: a@x.org -> b@x.org -> c@x.org (held by c@x.org)" in out


def test_records_lifecycle_by_hand(home, capsys):
    run(capsys, "registrar", "trust", "a@x.org", "--edges", "2")
    assert run(capsys, "list", "snap")[0] == ExitStatus.SUCCESS
    status, out, _ = run(capsys, "list", "ready", "--etc", "mount")
    assert "mount  list 1  M-" in out
    status, out, _ = run(capsys, "list", "status")
    assert "list 1  M-" in out
    assert run(capsys, "list", "report", "1")[0] == ExitStatus.SUCCESS
    status, out, _ = run(capsys, "list", "show", "--json")
    assert json.loads(out)[0]["trust_level"] == 2


def test_mistakes_are_refused_plainly(home, capsys, monkeypatch):
    status, _, err = run(capsys, "count")
    assert status == ExitStatus.ERROR and "run `civitas list` first" in err
    status, _, err = run(capsys, "list", "mount", "9")
    assert status == ExitStatus.ERROR and "no list record 9" in err
    status, _, err = run(capsys, "voter", "a@x.org", "mayor", "vote", "b@x.org")
    assert status == ExitStatus.ERROR and "no service 'mayor'" in err
    status, _, err = run(capsys, "voter", stdin="a@x.org register set shoe 9\nnot-an-address register hello\n",
                         monkeypatch=monkeypatch)
    assert status == ExitStatus.ERROR and "line 1:" in err and "line 2:" in err
    status, _, err = run(capsys, "count", "show", "test-poll")
    assert status == ExitStatus.ERROR and "no count is reported yet" in err


def test_an_altered_archive_fails_its_audit(home, capsys, monkeypatch):
    run(capsys, "poll", "create", "test-poll")
    run(capsys, "voter", stdin="a@x.org register set residence 1 Elm St, Springfield 90210\n"
                               "a@x.org test-poll vote b@x.org\n", monkeypatch=monkeypatch)
    run(capsys, "list")
    run(capsys, "count")
    archive = home / "records" / "count" / "000001" / "archive.tar"
    altered = home / "altered.tar"
    with tarfile.open(archive) as source, tarfile.open(altered, "w", format=tarfile.USTAR_FORMAT) as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == "result.tsv":
                data = data.replace(b"b@x.org\t1", b"b@x.org\t9")
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    status, _, err = run(capsys, "audit", str(altered))
    assert status == ExitStatus.INTEGRITY and "result.tsv does not match the hash in the manifest" in err


class Later:
    """Moves this process's clock (the site's and its log's) forward, as the days of a review and a vote would."""

    def __init__(self, monkeypatch) -> None:
        self.offset_ns = 0
        real = time.time_ns
        monkeypatch.setattr(time, "time_ns", lambda: real() + self.offset_ns)

    def hours(self, n: float) -> None:
        self.offset_ns += int(n * 3600 * 1e9)


def test_a_change_proposal_from_proposal_to_audited_decision(home, capsys, monkeypatch, tmp_path):
    """README's "Change proposals": clone the live repository, propose, vote, delegate, decide, audit."""
    later = Later(monkeypatch)
    voters = ("alice", "bob", "carol", "emily")
    lines = "".join(f"{v}@example.org register set residence 1 Elm St, Springfield 90210\n" for v in voters)
    assert run(capsys, "voter", stdin=lines, monkeypatch=monkeypatch)[0] == ExitStatus.SUCCESS
    for v in voters:
        run(capsys, "registrar", "trust", f"{v}@example.org")
    run(capsys, "list")
    status, out, _ = run(capsys, "site", "--json")
    assert json.loads(out)["live_repository"] == str(home / "live.git")
    assert run(capsys, "change", "list")[0] == ExitStatus.SUCCESS  # the live repository exists from here on

    site = tmp_path / "site"
    subprocess.run(["git", "clone", "--quiet", str(home / "live.git"), str(site)], check=True)
    git = ["git", "-C", str(site), "-c", "user.name=Alice", "-c", "user.email=alice@example.org"]
    subprocess.run([*git, "switch", "--quiet", "-c", "home"], check=True)
    (site / "pages").mkdir()
    (site / "pages" / "index.md").write_text("Welcome\n")
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", "A home page"], check=True)
    (tmp_path / "home.patch").write_bytes(subprocess.run([*git, "format-patch", "-1", "--stdout"], check=True,
                                                         capture_output=True).stdout)
    status, out, err = run(capsys, "voter", "alice@example.org", "change", "propose", "--patch", "home.patch",
                           "--title", "A home page")
    assert status == ExitStatus.SUCCESS and out.startswith("proposed 1: A home page"), err
    monkeypatch.chdir(site)
    status, _, err = run(capsys, "voter", "alice@example.org", "change", "propose", "--branch", "home",
                         "--title", "A home page")
    assert status == ExitStatus.ERROR and "proposal 1 proposes this very change already" in err
    monkeypatch.chdir(tmp_path)

    status, _, err = run(capsys, "voter", "bob@example.org", "change", "vote", "1", "yes")
    assert status == ExitStatus.ERROR and "in review" in err
    later.hours(48)
    run(capsys, "voter", "bob@example.org", "change", "vote", "1", "yes")
    run(capsys, "voter", "carol@example.org", "change", "delegate", "pages", "bob@example.org", "emily@example.org")
    status, out, _ = run(capsys, "voter", "carol@example.org", "change", "show", "1")
    assert "carol@example.org -> bob@example.org+emily@example.org does not reach a vote" in out  # emily has not voted
    run(capsys, "voter", "emily@example.org", "change", "vote", "1", "yes")
    status, out, _ = run(capsys, "change", "list")
    assert "voting" in out and "A home page" in out

    later.hours(168)
    status, out, _ = run(capsys, "change", "decide")
    assert status == ExitStatus.SUCCESS and "proposal 1, revision 1: APPROVED (decision 1" in out
    status, out, _ = run(capsys, "change", "show", "1", "--voter", "carol@example.org", "--json")
    shown = json.loads(out)
    assert shown["phase"] == "approved" and shown["tally"]["pages"]["yes"] == 3
    assert shown["my_vote"]["pages"]["chain"] == ["carol@example.org", "bob@example.org+emily@example.org"]
    status, out, _ = run(capsys, "audit", str(home / "records" / "decision" / "000001" / "archive.tar"))
    assert status == ExitStatus.SUCCESS and "decision 1 of localhost" in out and "matches byte for byte" in out
