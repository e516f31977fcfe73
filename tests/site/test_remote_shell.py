"""`civitas signin` and `civitas voter --url`: the voter shell through a running site's gateway."""

from __future__ import annotations

import io

import httpx

from civitas.cli import main
from civitas.exit_status import ExitStatus


class CodeFromInbox(io.StringIO):
    """Standard input that types the mailed code when the prompt asks for it."""

    def __init__(self, inbox, address: str) -> None:
        super().__init__()
        self.inbox, self.address, self.answers = inbox, address, None

    def readline(self, *args) -> str:
        if self.answers is None:
            self.answers = [self.inbox.code_for(self.address) + "\n", "\n"]
        return self.answers.pop(0) if self.answers else ""


def test_sign_in_then_vote_remotely(served, inbox, operator_headers, monkeypatch, capsys, tmp_path):
    _, base = served
    monkeypatch.setenv("CIVITAS_HOME", str(tmp_path / "client"))
    httpx.post(base + "/api/polls", json={"name": "test-poll"}, headers=operator_headers).raise_for_status()
    monkeypatch.setattr("sys.stdin", CodeFromInbox(inbox, "alice@example.org"))
    assert main(["signin", base, "alice@example.org"]) == ExitStatus.SUCCESS
    assert "signed in to" in capsys.readouterr().out
    assert main(["voter", "--url", base, "test-poll", "vote", "bob@example.org"]) == ExitStatus.SUCCESS
    assert "you now vote for bob@example.org" in capsys.readouterr().out
    assert httpx.get(base + "/api/polls/test-poll/votes").json() == {"alice@example.org": "bob@example.org"}
    monkeypatch.setattr("sys.stdin", io.StringIO("register set name Alice\nregister trust alice@example.org\n"))
    assert main(["voter", "--url", base]) == ExitStatus.ERROR
    out, err = capsys.readouterr()
    assert "name: (none) -> Alice" in out
    assert "line 2: 400" in err


def test_remote_commands_need_a_sign_in(served, monkeypatch, capsys, tmp_path):
    _, base = served
    monkeypatch.setenv("CIVITAS_HOME", str(tmp_path / "nobody"))
    assert main(["voter", "--url", base, "register", "hello"]) == ExitStatus.ERROR
    assert "sign in first: `civitas signin" in capsys.readouterr().err
