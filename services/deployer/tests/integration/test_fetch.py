"""Proposing a branch of a local clone, or a ref fetched from a git URL (a real `git daemon` on loopback)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from civitas_kernel.commands import CommandError
from civitas_deployer import ChangeCommands
from civitas_deployer.domain.choices import ChangeError
from civitas_deployer.fetch import FetchLimits, SourceRefused
from civitas_deployer.live_repo import PatchRefused

from ..git_repos import advance
from ..sites import ALICE, BOB, Clock, patch_file


LOOPBACK = FetchLimits(internal_hosts=True)  # the test's git daemon listens on loopback


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def change(make_log, live, lists) -> ChangeCommands:
    return ChangeCommands(make_log(), live, lists, clock=Clock(), fetch_limits=LOOPBACK)


def branch(clone, name: str, files: dict[str, str | bytes], *, remove: tuple[str, ...] = ()) -> str:
    """A branch of the clone on the live HEAD, with `files` written (each a commit) and `remove` removed after."""
    clone.sync()
    clone.git("checkout", "--quiet", "-B", name, "origin/main")
    for path, text in files.items():
        clone.write(path, text)
        clone.commit(f"add {path}")
    for path in remove:
        clone.git("rm", "--quiet", path)
        clone.git("commit", "--quiet", "-m", f"remove {path}")
    clone.git("checkout", "--quiet", "main")
    return clone.git("rev-parse", name).decode().strip()


def publish(clone, folder: Path, name: str = "voter.git") -> None:
    target = folder / name
    if target.exists():
        clone.git("push", "--quiet", "--force", "--all", str(target))
    else:
        subprocess.run(["git", "clone", "--quiet", "--bare", str(clone.path), str(target)], check=True)


def tree_of(clone, commit: str) -> str:
    return clone.git("rev-parse", f"{commit}^{{tree}}").decode().strip()


def test_a_branch_of_a_local_clone_is_proposed_from_the_sites_own_machine(change, clone):
    tip = branch(clone, "about", {"pages/about.md": "About us\n", "pages/team.md": "Team\n"})
    words = ["propose", "--branch", "about", "--repo", str(clone.path), "--title", "About pages"]
    with pytest.raises(SourceRefused, match="only on the site's own machine"):
        change.run(ALICE, words)
    reply = change.run(ALICE, words, local=True)
    assert reply.data["tree_hash"] == tree_of(clone, tip)
    assert reply.data["changed_paths"] == ["pages/about.md", "pages/team.md"]
    assert change.repo.kept("1", 1) == reply.data["result_commit"]
    assert not change.repo.has_commit(tip)  # the clone's own commits stay out: base and tree are what is voted on


def test_a_ref_at_a_git_url_is_proposed_and_revised(change, clone, git_daemon):
    url, folder = git_daemon
    tip = branch(clone, "about", {"pages/about.md": "About us\n"})
    publish(clone, folder)
    reply = change.run(ALICE, ["propose", "--url", f"{url}/voter.git", "--ref", "about", "--title", "About"])
    assert reply.data["tree_hash"] == tree_of(clone, tip)
    tip = branch(clone, "about", {"pages/about.md": "About us, again\n"})
    publish(clone, folder)
    revised = change.run(ALICE, ["revise", reply.data["proposal"], "--url", f"{url}/voter.git",
                                 "--ref", "refs/heads/about"])
    assert revised.data["revision"] == 2 and revised.data["tree_hash"] == tree_of(clone, tip)


def test_history_is_not_kept_only_the_tree_a_binary_file_removed_again_never_arrives(change, clone, git_daemon):
    url, folder = git_daemon
    tip = branch(clone, "logo", {"pages/logo.png": b"\x89PNG\x00\x01", "pages/about.md": "About\n"},
                 remove=("pages/logo.png",))
    publish(clone, folder)
    blob = clone.git("rev-parse", f"{tip}~1:pages/logo.png").decode().strip()
    reply = change.run(ALICE, ["propose", "--url", f"{url}/voter.git", "--ref", "logo", "--title", "About"])
    assert reply.data["changed_paths"] == ["pages/about.md"]
    assert change.repo.git.run("cat-file", "-e", blob, check=False).returncode != 0


def test_what_cannot_be_fetched_or_proposed_is_refused_and_leaves_nothing(change, clone, git_daemon, tmp_path):
    url, folder = git_daemon
    branch(clone, "stale", {"pages/stale.md": "stale\n"})
    advance(change.repo, Path(patch_file(clone, tmp_path, "p", {"pages/new.md": "new\n"})).read_bytes())
    branch(clone, "logo", {"pages/logo.png": b"\x89PNG\x00\x01"})
    branch(clone, "same", {})
    publish(clone, folder)
    objects = change.repo.git.out("count-objects", "-v")
    voter = f"{url}/voter.git"
    cases = [
        (PatchRefused, "pages/logo.png is a binary file", ["--url", voter, "--ref", "logo"]),
        (SourceRefused, "does not build on the live HEAD", ["--url", voter, "--ref", "stale"]),
        (ChangeError, "is the live HEAD itself", ["--url", voter, "--ref", "same"]),
        (SourceRefused, "cannot fetch nowhere of", ["--url", voter, "--ref", "nowhere"]),
        (SourceRefused, "cannot fetch about of", ["--url", f"{url}/missing.git", "--ref", "about"]),
        (SourceRefused, "not a branch or ref name", ["--url", voter, "--ref", "--upload-pack=touch /tmp/x"]),
        (SourceRefused, "not a branch or ref name", ["--url", voter, "--ref", "main..logo"]),
        (SourceRefused, "from a git://, http:// or https:// URL", ["--url", f"file://{folder}/v.git", "--ref", "logo"]),
        (SourceRefused, "from a git://, http:// or https:// URL", ["--url", "ext::sh -c touch% /tmp/x", "--ref", "a"]),
        (SourceRefused, "only on the site's own machine", ["--url", str(folder / "voter.git"), "--ref", "logo"]),
        (CommandError, "name the change once", ["--url", voter, "--ref", "a", "--branch", "b"]),
    ]
    for error, words, source in cases:
        with pytest.raises(error, match=words):
            change.run(BOB, ["propose", *source, "--title", "t"])
    with pytest.raises(CommandError, match="a patch file can be read only on the site's own machine"):
        change.run(BOB, ["propose", "--patch", str(tmp_path / "p.patch"), "--title", "t"])
    assert change.log.head("change").seq == 0
    assert change.repo.git.out("count-objects", "-v") == objects
    assert [p for p in change.repo.path.iterdir() if p.name.startswith("civitas-")] == []


def test_a_git_url_of_the_sites_own_network_is_refused_unless_the_site_allows_it(make_log, live, lists, clone,
                                                                                 git_daemon):
    url, folder = git_daemon
    branch(clone, "about", {"pages/about.md": "About us\n"})
    publish(clone, folder)
    change = ChangeCommands(make_log(), live, lists, clock=Clock())
    for where in (f"{url}/voter.git", url.replace("127.0.0.1", "localhost") + "/voter.git",
                  "http://10.1.2.3/site.git", "https://[::1]/site.git", "http://169.254.169.254/latest.git",
                  "https://[::ffff:127.0.0.1]/site.git"):
        with pytest.raises(SourceRefused, match="this site's own network"):
            change.run(ALICE, ["propose", "--url", where, "--ref", "about", "--title", "About"])
    with pytest.raises(SourceRefused, match="cannot find the host"):
        change.run(ALICE, ["propose", "--url", "https://no-such-host.invalid/x.git", "--ref", "about", "--title", "t"])
    assert change.log.head("change").seq == 0
    allowed = ChangeCommands(make_log(), live, lists, clock=Clock(), fetch_limits=LOOPBACK)
    assert allowed.run(ALICE, ["propose", "--url", f"{url}/voter.git", "--ref", "about", "--title", "About"]).data


def test_a_fetch_past_its_size_or_time_is_stopped_and_leaves_nothing(make_log, live, lists, clone, git_daemon):
    url, folder = git_daemon
    big = "".join(f"line {i} {i * 7919 % 10007}\n" for i in range(60_000))  # about 1 MiB, little to compress
    branch(clone, "big", {"pages/big.md": big})
    publish(clone, folder)
    small = ChangeCommands(make_log(), live, lists, clock=Clock(),
                           fetch_limits=FetchLimits(max_bytes=1 << 16, internal_hosts=True))
    with pytest.raises(SourceRefused, match="brings more than 64 KiB"):
        small.run(ALICE, ["propose", "--url", f"{url}/voter.git", "--ref", "big", "--title", "Big"])
    quick = ChangeCommands(make_log(), live, lists, clock=Clock(),
                           fetch_limits=FetchLimits(timeout_s=0.001, internal_hosts=True))
    with pytest.raises(SourceRefused, match="took longer than 0.001 s"):
        quick.run(ALICE, ["propose", "--url", f"{url}/voter.git", "--ref", "big", "--title", "Big"])
    assert [p for p in live.path.iterdir() if p.name.startswith("civitas-")] == []
