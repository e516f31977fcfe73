"""The proposals repository: the one git repository a release's site may write, so that code a proposal brings
can neither move the live repository's refs nor rewrite or delete its history.

What the site legitimately writes is the voters' proposals: each revision's objects and its ref under
refs/proposals/ID/REV. In host mode it writes them to CIVITAS_HOME/proposals.git, which reads the live
repository's objects through git's alternates (the live repository itself is bound read only in the sandbox), and
whose main the supervisor keeps on the live main. Each round the supervisor fetches the refs/proposals/* refs the
live repository does not hold yet: a ref it holds is never moved, and nothing but refs/proposals/* is ever taken.
The files git would act on while fetching from it (its config, hooks, alternates) are bound read only too.
"""

from __future__ import annotations

import logging
import re
import subprocess
from pathlib import Path

from civitas_deployer.git import Git
from civitas_deployer.live_repo import BRANCH, LiveRepository

log = logging.getLogger("civitas.deployer.host")
NAME = "proposals.git"
PROPOSAL_REF = re.compile(r"refs/proposals/[A-Za-z0-9._-]{1,100}/[0-9]{1,9}")  # as LiveRepository.keep names them
BATCH = 200  # refs per fetch
FETCH_TIMEOUT_S = 120


class ProposalsRepository:
    def __init__(self, path: Path, live: LiveRepository) -> None:
        self.path, self.live = Path(path).resolve(), live
        self.git = Git(self.path)

    def ensure(self) -> None:
        """Made on first use (a bare repository borrowing the live objects); its main on the live main."""
        if not (self.path / "HEAD").exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.git.run("init", "--quiet", "--bare", "--initial-branch=main", str(self.path), cwd=self.path.parent)
        (self.path / "hooks").mkdir(exist_ok=True)  # bound read only, so it must exist
        alternates = self.path / "objects" / "info" / "alternates"
        wanted = f"{(Path(self.live.path) / 'objects').resolve()}\n"
        if not alternates.exists() or alternates.read_text() != wanted:
            alternates.parent.mkdir(parents=True, exist_ok=True)
            alternates.write_text(wanted)
        self.follow_main()

    def follow_main(self) -> None:
        """The proposals repository's main on the live main (where voters base their proposals)."""
        head = self.live.head()
        if self.git.run("rev-parse", "--verify", "--quiet", BRANCH, check=False).stdout.decode().strip() != head:
            self.git.run("update-ref", BRANCH, head)

    def guarded(self) -> tuple[Path, ...]:
        """What the site must not write in it: what git would act on when the supervisor fetches from it."""
        return tuple(self.path / p for p in ("config", "hooks", "objects/info/alternates"))

    def import_proposals(self) -> list[str]:
        """Each refs/proposals/* ref the live repository does not hold yet, with its objects; the refs taken.

        Only new refs are fetched, each by name: a ref the live repository holds is never moved, fast-forward or not."""
        listed = self.git.out("for-each-ref", "--format=%(refname)", "refs/proposals/").split()
        held = set(self.live.git.out("for-each-ref", "--format=%(refname)", "refs/proposals/").split())
        new = [ref for ref in listed if ref not in held and PROPOSAL_REF.fullmatch(ref)]
        taken = []
        for at in range(0, len(new), BATCH):
            batch = new[at:at + BATCH]
            try:
                done = self.live.git.run("fetch", "--quiet", "--no-tags", "--no-write-fetch-head", str(self.path),
                                         *(f"{ref}:{ref}" for ref in batch), check=False, timeout=FETCH_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                log.warning("taking proposals from %s took over %d s; tried again next round", self.path,
                            FETCH_TIMEOUT_S)
                break
            if done.returncode != 0:
                log.warning("proposals' refs not taken from %s: %s", self.path,
                            done.stderr.decode(errors="replace").strip()[-2000:])
                continue
            taken += batch
        return taken
