"""What code a proposal brings cannot do in host mode, and what the supervisor does for it: a release whose code
tries to move the live repository's main, tag it, write or delete its files, and rewrite a proposal's ref, fails at
each, while its site still writes the voters' proposals (to the proposals repository, brought in by the
supervisor); once it passed its health window the supervisor pushes it with its signed tag to the mirror, whose
URL the release never sees."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from civitas_deployer.tag_signing import allowed_signers_line
from civitas_kernel.signing import SiteKey

from .deploying_site import approved_site, wait_for_ended
from .host_site import (GATEWAY_INIT, home_with_source, host_build_cache, processes_of,  # noqa: F401
                        self_governed, source_file)

pytestmark = pytest.mark.slow  # a supervisor, two releases built and started

# What the release's code does as its gateway is imported: each attempt on the live repository, and what came of it.
VANDAL = '''

def _vandal():  # code a proposal brings, trying to rewrite the site's history
    import json, os, subprocess
    from pathlib import Path
    home = Path(os.environ["CIVITAS_HOME"])
    live, proposals = str(home / "live.git"), os.environ["CIVITAS_LIVE_REPO"]

    def git(repo, *args):
        done = subprocess.run(["git", "--git-dir", repo, *args], capture_output=True, text=True)
        return [done.returncode, done.stderr.strip()[-300:]]

    def write(path, data):
        try:
            with open(path, "a") as f:
                f.write(data)
            return [0, ""]
        except OSError as e:
            return [1, repr(e)]

    tried = {"move_main": git(live, "update-ref", "refs/heads/main", "HEAD~1"),
             "tag": git(live, "tag", "vandal", "HEAD"),
             "ref_file": write(home / "live.git" / "refs" / "heads" / "vandal", "0" * 40 + "\\n"),
             "proposals_config": write(Path(proposals) / "config", "[core]\\n\\talternateRefsCommand = id\\n")}
    packs = sorted((home / "live.git" / "objects").rglob("*"))
    try:
        os.remove(next(p for p in packs if p.is_file()))
        tried["delete_object"] = [0, ""]
    except OSError as e:
        tried["delete_object"] = [1, repr(e)]
    held = subprocess.run(["git", "--git-dir", live, "for-each-ref", "--format=%(refname)", "refs/proposals/"],
                          capture_output=True, text=True).stdout.split()
    for ref in held:  # the proposals already kept, pointed elsewhere where the site may write
        git(proposals, "update-ref", ref, "HEAD")
    tried["rewrite_proposals"] = held
    tried["new_proposal"] = git(proposals, "update-ref", "refs/proposals/vandal/1", "HEAD")
    (home / "vandal.json").write_text(json.dumps(tried))


_vandal()
'''


def refs(git_dir: Path) -> dict[str, str]:
    out = subprocess.run(["git", "--git-dir", str(git_dir), "for-each-ref", "--format=%(refname) %(objectname)"],
                         capture_output=True, text=True, check=True).stdout
    return dict(line.split() for line in out.splitlines())


def verify_tag(git_dir: Path, tag: str, signers: Path) -> bool:
    return subprocess.run(["git", "--git-dir", str(git_dir), "-c", f"gpg.ssh.allowedSignersFile={signers}",
                           "verify-tag", tag], capture_output=True).returncode == 0


def environ_of_site(home: Path) -> list[str]:
    """The environments of the release's site processes, as the kernel shows them."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and b"venv/bin/civitas" in (entry / "cmdline").read_bytes() and \
                    str(home).encode() in (entry / "cmdline").read_bytes():
                found.append((entry / "environ").read_bytes().decode(errors="replace"))
        except OSError:
            continue
    return found


def wait_until(condition, timeout_s: float = 30):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.2)


def test_a_release_cannot_move_the_live_repository_and_is_pushed_to_the_mirror_signed(
        tmp_path, host_build_cache, self_governed):
    home, repo = home_with_source(tmp_path, host_build_cache)
    mirror = tmp_path / "mirror.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(mirror)], check=True)
    (pid,) = approved_site(home, tmp_path, [("A gateway that tries its luck",
                                             {GATEWAY_INIT: source_file(home, GATEWAY_INIT) + VANDAL})])
    before = refs(home / "live.git")

    site = self_governed(home, CIVITAS_MIRROR_URLS=str(mirror))
    (deployment,) = wait_for_ended(home, 1, site.process)
    assert deployment["phase"] == "applied", deployment  # its site works: only the attempts on the live repo fail
    tried = json.loads((home / "vandal.json").read_text())
    wait_until(lambda: "refs/proposals/vandal/1" in refs(home / "live.git"))  # the next round brings it in
    wait_until(lambda: "refs/tags/deployment-1" in refs(mirror))
    environments = environ_of_site(home)
    answer = httpx.get(site.base + "/")
    site.stop()
    assert processes_of(home) == []

    for attempt in ("move_main", "tag", "ref_file", "delete_object", "proposals_config"):
        assert tried[attempt][0] != 0, (attempt, tried[attempt])
    assert "Read-only file system" in tried["ref_file"][1] + tried["delete_object"][1]
    after = refs(home / "live.git")
    assert after["refs/heads/main"] == deployment["commit"] == repo.head()  # main where the deployment put it
    assert "refs/tags/vandal" not in after and "refs/heads/vandal" not in after
    assert tried["rewrite_proposals"] == [f"refs/proposals/{pid}/1"]
    assert after[f"refs/proposals/{pid}/1"] == before[f"refs/proposals/{pid}/1"]  # a kept proposal never moves
    # the site wrote a proposal's ref where it may, on the main it was shown (the one before it, still deploying)
    assert tried["new_proposal"][0] == 0
    assert after["refs/proposals/vandal/1"] == repo.git.out("rev-parse", f"{deployment['commit']}^1")
    assert subprocess.run(["git", "--git-dir", str(home / "live.git"), "fsck", "--no-dangling"],
                          capture_output=True).returncode == 0  # nothing of its history deleted

    assert answer.headers["civitas-release"] == deployment["commit"]
    pushed = refs(mirror)
    assert pushed["refs/heads/main"] == deployment["commit"]
    signers = tmp_path / "allowed_signers"
    signers.write_text(allowed_signers_line("localhost", SiteKey.load_or_create(home / "site-key.pem").public_key)
                       + "\n")
    assert verify_tag(mirror, "deployment-1", signers)  # signed by the supervisor with the site's key
    assert environments and all(str(mirror) not in env and "MIRROR" not in env for env in environments)
