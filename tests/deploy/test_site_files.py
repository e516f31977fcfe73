"""The site's files in Kubernetes mode, run for real as the chart renders them: the deployer pod's git service (its
`git daemon` command) serves a real live repository from the deployer's home, and a site pod's `site-files`
initContainer (its command and arguments) fetches the commit its values name and lays the release out where the
service reads it. Only the paths and the port are moved onto this machine; no cluster runs here."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from civitas_deployer.live_repo import LiveRepository
from civitas_kernel.live_release import LiveRelease
from civitas_kernel.testing.ports import free_port

from .test_chart import deployments, render
from .test_flux import ON, deployer_release, site_release

T0 = 1_700_000_000_000_000
SOURCE_HOST = "civitas-deployer:9418"  # the Service the site pods fetch from


def git(repo: Path, *args: str, input: bytes | None = None) -> str:
    env = {"PATH": os.environ["PATH"], "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org"}
    return subprocess.run(["git", "--git-dir", str(repo), *args], input=input, capture_output=True, check=True,
                          env=env).stdout.decode().strip()


def commit_on_main(repo: Path, path: str, text: str, message: str) -> str:
    """A commit on main changing one file (plumbing, as the deployer's own commits are made)."""
    blob = git(repo, "hash-object", "-w", "--stdin", input=text.encode())
    index = {"GIT_INDEX_FILE": str(repo / "test-index")}
    subprocess.run(["git", "--git-dir", str(repo), "read-tree", "main"], env=os.environ | index, check=True)
    subprocess.run(["git", "--git-dir", str(repo), "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}"],
                   env=os.environ | index, check=True)
    tree = subprocess.run(["git", "--git-dir", str(repo), "write-tree"], env=os.environ | index, check=True,
                          capture_output=True, text=True).stdout.strip()
    commit = git(repo, "commit-tree", tree, "-p", "main", "-m", message)
    git(repo, "update-ref", "refs/heads/main", commit)
    return commit


def commit_on_main_of_empty(repo: Path) -> str:
    tree = git(repo, "mktree", input=b"")
    commit = git(repo, "commit-tree", tree, "-m", "elsewhere")
    git(repo, "update-ref", "refs/heads/main", commit)
    return commit


@pytest.fixture
def home(tmp_path) -> Path:
    """The deployer's home: its live repository (the defaults as civitas ships them) and, beside it, the GitOps
    repository's copy, which the git service must not serve."""
    home = tmp_path / "deployer-home"
    LiveRepository.open_or_create(home / "live.git", T0)
    subprocess.run(["git", "init", "--quiet", "--bare", str(home / "gitops.git")], check=True)
    return home


@pytest.fixture
def git_service(home):
    """The deployer pod's `git` container, started as the chart renders it, over `home`: its git:// address."""
    pod = deployments(deployer_release(render(ON)))["deployer"]["spec"]["template"]["spec"]
    (container,) = [c for c in pod["containers"] if c["name"] == "git"]
    port = free_port()
    command = [arg.replace("/srv/home", str(home)).replace("--listen=0.0.0.0", "--listen=127.0.0.1")
               .replace("--port=9418", f"--port={port}") for arg in container["command"]]
    env = {"PATH": os.environ["PATH"]} | {e["name"]: e["value"] for e in container["env"]}
    daemon = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert daemon.poll() is None and time.monotonic() < deadline, daemon.stderr.read()
            time.sleep(0.05)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        daemon.terminate()
        daemon.wait(10)


def site_files(address: str, into: Path, commit: str, decision: str = "decision 7", service: str = "gateway"):
    """The site pod's `site-files` initContainer, run as the chart renders it for values naming `commit`."""
    site = site_release(render(ON), {"release": {"commit": commit, "decision": decision}})
    (init,) = deployments(site)[service]["spec"]["template"]["spec"]["initContainers"]
    assert init["command"][:1] == ["python"]
    args = [a.replace(SOURCE_HOST, address).replace("/var/lib/civitas-releases", str(into)) for a in init["args"]]
    env = {"PATH": os.environ["PATH"], "HOME": str(into.parent)}
    return subprocess.run([sys.executable, *init["command"][1:], *args], capture_output=True, text=True, env=env,
                          timeout=120)


def files_of(tree: Path) -> dict[str, bytes]:
    return {str(p.relative_to(tree)): p.read_bytes() for p in sorted(tree.rglob("*")) if p.is_file()}


def archived(repo: Path, commit: str) -> dict[str, bytes]:
    names = git(repo, "ls-tree", "-r", "--name-only", commit).splitlines()
    return {name: subprocess.run(["git", "--git-dir", str(repo), "show", f"{commit}:{name}"], capture_output=True,
                                 check=True).stdout for name in names}


def test_a_site_pod_gets_exactly_the_files_of_the_commit_its_values_name(home, git_service, tmp_path):
    live = home / "live.git"
    first = git(live, "rev-parse", "main")
    second = commit_on_main(live, "site/front.md", "# The second release\n", "A second front page")

    into = tmp_path / "pod" / "releases"
    done = site_files(git_service, into, first)
    assert done.returncode == 0, done.stderr
    # the older commit's files, though main has moved on: what a pod rolled back by Flux must get
    release = LiveRelease.at(tmp_path, releases=into)
    assert release is not None and release.commit == first and release.decision == "decision 7"
    assert LiveRelease.at(tmp_path, releases=into, link="verified").commit == first
    assert files_of(release.root) == archived(live, first) and files_of(release.root)
    assert json.loads((into / first / "release.json").read_text())["commit"] == first

    newer = tmp_path / "newer-pod" / "releases"
    assert site_files(git_service, newer, second, "decision 8").returncode == 0
    release = LiveRelease.at(tmp_path, releases=newer)
    assert release.commit == second and release.read("site/front.md") == b"# The second release\n"
    assert files_of(release.root) == archived(live, second)

    again = site_files(git_service, into, first)  # the initContainer run again in the same pod
    assert again.returncode == 0 and LiveRelease.at(tmp_path, releases=into).commit == first


def test_a_commit_the_live_repository_does_not_hold_stops_the_pod_and_writes_nothing(home, git_service, tmp_path):
    elsewhere = tmp_path / "elsewhere.git"  # a real commit, of another repository
    subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch=main", str(elsewhere)], check=True)
    foreign = commit_on_main_of_empty(elsewhere)
    for commit in (foreign, "0123456789abcdef" * 2 + "01234567"):
        into = tmp_path / f"pod-{commit[:6]}" / "releases"
        done = site_files(git_service, into, commit)
        assert done.returncode == 2
        assert done.stderr.startswith("site files: the deployer's git service at git://")
        assert f"did not give commit {commit}" in done.stderr and "Traceback" not in done.stderr
        assert not [p for p in into.iterdir()], list(into.iterdir())  # nothing laid out, no link


def test_the_git_service_serves_the_live_repository_alone_and_takes_no_push(home, git_service, tmp_path):
    scratch = tmp_path / "scratch.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(scratch)], check=True)
    head = git(home / "live.git", "rev-parse", "main")
    listed = subprocess.run(["git", "ls-remote", f"git://{git_service}/live.git"], capture_output=True, text=True)
    assert listed.returncode == 0 and head in listed.stdout
    for other in ("gitops.git", "live.git/../gitops.git", "live"):
        refused = subprocess.run(["git", "ls-remote", f"git://{git_service}/{other}"], capture_output=True, text=True)
        assert refused.returncode != 0, other
    pushed = subprocess.run(["git", "--git-dir", str(home / "live.git"), "push", f"git://{git_service}/live.git",
                             f"{head}:refs/heads/intruder"], capture_output=True, text=True)
    assert pushed.returncode != 0
    assert git(home / "live.git", "for-each-ref", "--format=%(refname)", "refs/heads/") == "refs/heads/main"


@pytest.mark.parametrize("args, says", [
    (["--commit", "main"], "is not a commit's full hash"),
    (["--commit", "AB" * 20], "is not a commit's full hash"),
    (["--source", "file:///var/lib/civitas/live.git"], "is not a git:// or http(s):// URL"),
    (["--source", "git://host/live.git --upload-pack=sh"], "is not a git:// or http(s):// URL"),
])
def test_bad_arguments_are_refused_saying_what_to_give(tmp_path, args, says):
    given = {"--source": "git://civitas-deployer:9418/live.git", "--commit": "ab" * 20}
    given.update(dict(zip(args[::2], args[1::2])))
    into = tmp_path / "releases"
    done = subprocess.run([sys.executable, "-m", "civitas_deployer.gitops.site_files", "--into", str(into),
                           *[x for kv in given.items() for x in kv]], capture_output=True, text=True)
    assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr
    assert not into.exists()
