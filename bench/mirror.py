"""Mirror figures: what a deployment waits for, and how long a release takes to reach a mirror on loopback.

Run: .venv/bin/python bench/mirror.py [--quick]

A live repository of 2,000 files of 1 KiB (200 with --quick) and a `git daemon` on loopback that takes pushes.
Each figure is the median of 5 runs, in ms:
1. `verified()`: what the engine waits for once a release passed health (the state file written, the pusher woken).
2. Signing a release tag with the site's key (git tag -s through ssh-keygen, the key in a 0600 file meanwhile).
3. The first push of the whole repository and its tag (signed in the same call) to an empty mirror on the daemon.
4. The next release (one file changed) and its tag (signed before), pushed to a mirror that has the one before.
5. A push a pre-receive hook refuses (the failure recorded, the retry scheduled).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import save, show  # noqa: E402

from civitas_deployer.git import Git  # noqa: E402
from civitas_deployer.live_repo import LiveRepository  # noqa: E402
from civitas_deployer.mirror import Mirrors  # noqa: E402
from civitas_deployer.tag_signing import sign_tag  # noqa: E402
from civitas_kernel.signing import SiteKey  # noqa: E402
from civitas_kernel.testing.git import serve_git  # noqa: E402
from civitas_kernel.testing.ports import free_port  # noqa: E402


def commit_files(live: LiveRepository, files: dict[str, bytes]) -> str:
    """A commit on main with these files (paths one level deep), on top of the live HEAD."""
    git = live.git
    entries = "".join(f"100644 blob {git.out('hash-object', '-w', '--stdin', input=data)}\t{name}\n"
                      for name, data in sorted(files.items()))
    tree = git.out("mktree", input=entries.encode())
    commit = git.out("commit-tree", tree, "-p", live.head(), "-m", "release",
                     env={"GIT_AUTHOR_NAME": "civitas", "GIT_AUTHOR_EMAIL": "civitas@localhost"})
    git.run("update-ref", "refs/heads/main", commit)
    return commit


def bare(path: Path, refuse: bool = False) -> Path:
    subprocess.run(["git", "init", "--quiet", "--bare", str(path)], check=True)
    if refuse:
        hook = path / "hooks" / "pre-receive"
        hook.write_text("#!/bin/sh\nexit 1\n")
        hook.chmod(0o755)
    return path


def main() -> None:
    n_files = 200 if "--quick" in sys.argv else 2000
    key = SiteKey.generate()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        live = LiveRepository.open_or_create(root / "live.git", time.time_ns() // 1000)
        files = {f"page-{i:05d}.md": (f"# page {i}\n" + "x" * 1014 + "\n").encode() for i in range(n_files)}
        commit_files(live, files)
        port, served = free_port(), root / "served"
        verified, signing, first, next_, refused = [], [], [], [], []
        with serve_git(served, port, push=True) as daemon:
            for run in range(5):
                bare(served / f"m{run}.git")
                bare(root / f"refusing{run}.git", refuse=True)
                mirrors = Mirrors(live.path, f"{daemon}/m{run}.git", key, root / f"state{run}.json")
                refusing = Mirrors(live.path, str(root / f"refusing{run}.git"), key, root / f"rstate{run}.json")
                head = live.head()
                started = time.perf_counter()
                mirrors.verified(head, f"r{run}-a", "release")
                verified.append(time.perf_counter() - started)
                started = time.perf_counter()
                sign_tag(Git(live.path), key, f"s{run}", head, "signed", site="bench", at_us=0)
                signing.append(time.perf_counter() - started)
                started = time.perf_counter()
                assert mirrors.push_due() == {f"{daemon}/m{run}.git": None}
                first.append(time.perf_counter() - started)
                files[f"page-{run:05d}.md"] = f"# page {run}, changed\n".encode()
                changed = commit_files(live, files)
                mirrors.verified(changed, f"r{run}-b", "release")
                sign_tag(Git(live.path), key, f"r{run}-b", changed, "release", site="localhost", at_us=0)
                started = time.perf_counter()
                assert mirrors.push_due(10**18) == {f"{daemon}/m{run}.git": None}
                next_.append(time.perf_counter() - started)
                refusing.verified(changed, f"r{run}-b", "release")
                started = time.perf_counter()
                assert refusing.push_due()[str(root / f"refusing{run}.git")]
                refused.append(time.perf_counter() - started)
    rows = [["verified(): what the deployment waits for", 1000 * statistics.median(verified)],
            ["sign a release tag with the site key", 1000 * statistics.median(signing)],
            [f"first push to a loopback git daemon ({n_files:,} files of 1 KiB, with its tag)",
             1000 * statistics.median(first)],
            ["the next release (one file changed) and its tag", 1000 * statistics.median(next_)],
            ["a push the mirror refuses (recorded, retry scheduled)", 1000 * statistics.median(refused)]]
    show("The off-site mirror", ["what", "ms (median of 5)"], rows)
    save("mirror", {row[0]: row[1] for row in rows})


if __name__ == "__main__":
    main()
