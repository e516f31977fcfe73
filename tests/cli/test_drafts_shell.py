"""`civitas voter VOTER drafts ...` on the embedded site, through the real entry point: groups, posts, votes and
queries, one command at a time and as lines read from standard input (decided together, written at once)."""

from __future__ import annotations

import io

import pytest

from civitas.cli import main
from civitas.exit_status import ExitStatus


@pytest.fixture(autouse=True)
def site_home(tmp_path, monkeypatch):
    monkeypatch.setenv("CIVITAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CIVITAS_SITE", "alpha.example.org")
    for name in ("CIVITAS_LOG_URL", "CIVITAS_URL"):
        monkeypatch.delenv(name, raising=False)


def voter(capsys, *words: str) -> str:
    assert main(["voter", *words]) == ExitStatus.SUCCESS, capsys.readouterr().err
    return capsys.readouterr().out


def test_a_voter_makes_a_group_posts_and_queries_through_the_shell(capsys):
    said = voter(capsys, "alice@example.org", "drafts", "group", "create", "Town", "hall", "--others-weight", "1")
    assert said.startswith("created group ") and "Town hall (public; 1 members" in said
    assert "2 members" in voter(capsys, "bob@example.org", "drafts", "group", "join", "Town hall")
    assert voter(capsys, "bob@example.org", "drafts", "post", "Town hall", "Plant trees.").startswith("posted ")
    assert "Plant trees." in voter(capsys, "carol@example.org", "drafts", "show", "Town hall")
    answer = voter(capsys, "carol@example.org", "drafts", "query",
                   "SELECT m.nickname, m.weight FROM members m ORDER BY m.nickname")
    assert answer.splitlines() == ["nickname\tweight", "alice\t1", "bob\t1"]


def test_lines_from_standard_input_are_decided_together_and_each_answered(capsys, monkeypatch):
    lines = ["alice@example.org drafts group create Council --others-weight 1",
             "bob@example.org drafts group join Council",
             "bob@example.org drafts post Council 'First point.' 'Second point.'",
             "mallory@example.org drafts group set-weight Council alice -1",
             "carol@example.org drafts query \"SELECT count(*) FROM members\""]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["voter"]) == ExitStatus.ERROR  # one line of five was refused
    said = capsys.readouterr()
    assert "line 4:" in said.err and said.err.count("line ") == 1
    assert said.out.splitlines()[-1] == "2"  # the query, after the batch's own commands, sees both members
    posts = voter(capsys, "dave@example.org", "drafts", "query", "SELECT count(*) FROM posts")
    assert posts.splitlines() == ["count(*)", "1"]


def test_a_mistyped_drafts_command_says_what_to_write(capsys):
    assert main(["voter", "alice@example.org", "drafts", "groups"]) == ExitStatus.ERROR
    assert "drafts has no command 'groups'" in capsys.readouterr().err
