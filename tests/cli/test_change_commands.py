"""Change proposals on the embedded site: the voter shell's `change` service, `civitas change`, and the web shell."""

from __future__ import annotations

import subprocess
import time

import pytest
from fastapi.testclient import TestClient

from civitas.cli import main
from civitas.exit_status import ExitStatus
from civitas.settings import Settings
from civitas.site import Site

ALICE, BOB, CAROL = "alice@example.org", "bob@example.org", "carol@example.org"
RESIDENCE = "residence 1 Elm St, Springfield 90210".split()


class Later:
    """Moves the machine's clock forward for this process (the site's clock and its log's), as days passing would."""

    def __init__(self, monkeypatch) -> None:
        self.offset_ns = 0
        real = time.time_ns
        monkeypatch.setattr(time, "time_ns", lambda: real() + self.offset_ns)

    def hours(self, n: float) -> None:
        self.offset_ns += int(n * 3600 * 1e9)


@pytest.fixture
def later(monkeypatch) -> Later:
    return Later(monkeypatch)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("CIVITAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CIVITAS_SITE", "localhost")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "home"


def run(capsys, *args) -> tuple[ExitStatus, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def patch_of(live, tmp_path, path: str, text: str) -> str:
    """A patch made as a voter makes one: clone the live repository, commit, `git format-patch`."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(live), str(clone)], check=True)
    (clone / path).parent.mkdir(parents=True, exist_ok=True)
    (clone / path).write_text(text)
    git = ["git", "-C", str(clone), "-c", "user.name=Alice", "-c", f"user.email={ALICE}"]
    subprocess.run([*git, "add", "--all"], check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", "An about page"], check=True)
    patch = tmp_path / "about.patch"
    patch.write_bytes(subprocess.run([*git, "format-patch", "-1", "--stdout"], check=True, capture_output=True).stdout)
    return str(patch)


def test_change_commands_say_what_is_wrong(home, capsys):
    status, _, err = run(capsys, "change", "show", "7")
    assert status == ExitStatus.ERROR and "there is no proposal '7'" in err
    status, _, err = run(capsys, "change", "decide", "--now", "next tuesday")
    assert status == ExitStatus.ERROR and "is not a time" in err
    status, _, err = run(capsys, "voter", ALICE, "change", "approve", "1")
    assert status == ExitStatus.ERROR and "no command 'approve'" in err
    status, out, _ = run(capsys, "change", "--help")
    assert status == ExitStatus.SUCCESS and all(word in out for word in ("show", "list", "decide"))


def test_the_web_shell_runs_change_commands_but_reads_no_files_of_the_server(
        tmp_path, smtp, sign_in, expect_problem, later):
    from civitas_gateway import AuthSettings, create_app

    home = tmp_path / "home"
    site = Site(Settings(HOME=home, SITE="localhost", COMPILE_EVERY_MINUTES=0, DECIDE_EVERY_S=0))
    for voter in (ALICE, BOB):
        site.registry.registrar_trust(voter)
        site.registry.run(voter, ["set", *RESIDENCE])
    site.compile("list")
    patch = patch_of(site.live_repo.path, tmp_path, "pages/about.md", "About us\n")
    site.change.run(ALICE, ["propose", "--patch", patch, "--title", "About us"], local=True)
    later.hours(48)
    auth = AuthSettings(HOME=home, SITE="localhost", SMTP_HOST="127.0.0.1", SMTP_PORT=smtp[1], SMTP_TIMEOUT=30)
    with TestClient(create_app(site, auth), raise_server_exceptions=False) as api:
        bob = {"Authorization": f"Bearer {sign_in(api, BOB)}"}
        reply = api.post("/api/shell", json={"line": "change vote 1 yes"}, headers=bob)
        assert reply.status_code == 200, reply.text
        assert reply.json()["text"].startswith("you vote yes on proposal 1, revision 1: content ")
        problem = expect_problem(api.post("/api/shell", json={"line": f"change revise 1 --patch {patch}"},
                                          headers=bob), 400)
        assert "only on the site's own machine" in problem["detail"]
    assert site.change.show(BOB, "1").data["ballot"] == "yes"
    assert site.log.head("change").seq == 2


def test_a_proposal_in_a_group_commit_is_named_in_git_only_once_written(tmp_path):
    site = Site(Settings(HOME=tmp_path / "home", SITE="localhost", COMPILE_EVERY_MINUTES=0, DECIDE_EVERY_S=0))
    site.registry.registrar_trust(ALICE)
    site.registry.run(ALICE, ["set", *RESIDENCE])
    site.compile("list")
    patch = patch_of(site.live_repo.path, tmp_path, "pages/about.md", "About us\n")
    site.change.catch_up()
    with pytest.raises(RuntimeError), site.batch():
        site.change.run(ALICE, ["propose", "--patch", patch, "--title", "About us"], local=True)
        raise RuntimeError("the batch's write fails")
    assert site.live_repo.kept("1", 1) is None and site.log.head("change").seq == 0
    site.change.catch_up()  # folded again from the log
    with site.batch():
        reply = site.change.run(ALICE, ["propose", "--patch", patch, "--title", "About us"], local=True)
        assert reply.data["proposal"] == "1" and site.live_repo.kept("1", 1) is None  # not written yet
    site.change.catch_up()
    assert site.live_repo.kept("1", 1) == reply.data["result_commit"] and site.log.head("change").seq == 1


def test_a_revision_in_the_voter_shell_tells_the_voters_it_voided_by_mail(home, tmp_path, later, capsys, monkeypatch):
    import io

    from civitas_gateway.outbox import MaildirMailer

    lines = "".join(f"{v} register set {' '.join(RESIDENCE)}\n" for v in (ALICE, BOB))
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    assert main(["voter"]) == ExitStatus.SUCCESS
    for voter in (ALICE, BOB):
        run(capsys, "registrar", "trust", voter)
    run(capsys, "list")
    live = home / "live.git"
    run(capsys, "change", "list")  # makes the live repository
    first = patch_of(live, tmp_path / "one", "pages/about.md", "About us\n")
    assert run(capsys, "voter", ALICE, "change", "propose", "--patch", first, "--title", "About")[0] == ExitStatus.SUCCESS
    later.hours(48)
    assert run(capsys, "voter", BOB, "change", "vote", "1", "no")[0] == ExitStatus.SUCCESS
    second = patch_of(live, tmp_path / "two", "pages/about.md", "About all of us\n")
    status, out, err = run(capsys, "voter", ALICE, "change", "revise", "1", "--patch", second)
    assert status == ExitStatus.SUCCESS, err
    told = [m for _, m in MaildirMailer(home / "outbox").messages() if str(m["To"]) == BOB]
    assert [m["Subject"] for m in told] == ["Your vote on proposal 1 is void: it was revised"]
