"""Fork figures: a site forked from a parent serving N events, and what an inherited voter's confirmation costs.

Run: .venv/bin/python bench/fork.py [--voters N] [--quick]

The parent (`civitas serve sync` in a process of its own over a SQLite log filled here) holds N voters, each with a
residence and five trust edges given, and the registrar's primary trust in every tenth. The fork is made in this
process by the code `civitas fork` runs (every page verified with the parent's key, the whole parent's log verified
again, the first event written); then a few inherited voters confirm (each reads the parent's streams held here up to
the cut) and the fork's first list is compiled.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import Timer, console, save, show  # noqa: E402
from sync import CIVITAS, wait_for  # noqa: E402

from civitas_kernel.events import NewEvent  # noqa: E402
from civitas_kernel.signing import SiteKey  # noqa: E402
from civitas_kernel.sql import open_log  # noqa: E402
from civitas_kernel.testing.events import trust  # noqa: E402
from civitas_kernel.testing.ports import free_port  # noqa: E402
from civitas_kernel.voter_command import VoterCommand  # noqa: E402
from civitas_schema.v1 import registration_pb2, trust_pb2  # noqa: E402

from civitas.forking import fork_site  # noqa: E402
from civitas.settings import Settings  # noqa: E402
from civitas.site import Site, dispatch  # noqa: E402

BATCH = 10_000


def voter(i: int) -> str:
    return f"v{i}@example.org"


def fill(log, voters: int) -> int:
    events = 0
    for start in range(0, voters, BATCH):
        people = range(start, min(voters, start + BATCH))
        log.append("registration", [NewEvent.of(registration_pb2.AttributeSet(
            voter=voter(i), attribute="residence", value=f"{i} High St, Town T1000"), voter(i)) for i in people])
        log.append("trust", [trust(voter(i), voter((i * 7 + k) % voters)) for i in people for k in range(1, 6)])
        log.append("trust", [NewEvent.of(trust_pb2.PrimaryTrustExtended(voter=voter(i), edges=1), "registrar")
                             for i in people if i % 10 == 0])
        events += len(people) * 6 + len([i for i in people if i % 10 == 0])
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=50_000)
    parser.add_argument("--confirm", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="5,000 voters")
    args = parser.parse_args()
    voters = 5_000 if args.quick else args.voters
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        home = root / "parent"
        home.mkdir()
        key = SiteKey.load_or_create(home / "site-key.pem")
        with Timer() as filling:
            events = fill(open_log(f"sqlite:///{home / 'log.sqlite'}", "parent.example", key), voters)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CIVITAS_")} | {
            "CIVITAS_HOME": str(home), "CIVITAS_SITE": "parent.example", "CIVITAS_PORT": str(port),
            "CIVITAS_SYNC_EVERY_S": "0"}
        serving = subprocess.Popen([CIVITAS, "serve", "sync"], env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_for(url + "/health", serving)
            settings = Settings(HOME=root / "fork", SITE="fork.example", COMPILE_EVERY_MINUTES=0)
            with Timer() as forking:
                lineage = fork_site(settings, "parent.example", url, key.public_key)
        finally:
            serving.terminate()
            serving.wait(10)
        site = Site(settings)
        with Timer() as first:  # reads the parent's cut once, indexing it by voter
            dispatch(site, VoterCommand(voter(0), "register", ("confirm",)), local=True)
        with Timer() as confirming:
            for i in range(1, args.confirm + 1):
                dispatch(site, VoterCommand(voter(i * 7), "register", ("confirm",)), local=True)
        with Timer() as listing:
            site.compile("list")
        listed = len(site.reported_list().entries)
    held = sum(c["seq"] for c in lineage["cut"])
    rows = [["fork (pull, verify, first event)", held, forking.seconds, held / forking.seconds],
            ["the first confirmation (indexes the cut)", 1, first.seconds, 1 / first.seconds],
            [f"confirm {args.confirm} more inherited voters", args.confirm, confirming.seconds,
             args.confirm / confirming.seconds],
            [f"the fork's first list ({listed} listed)", listed, listing.seconds, listed / listing.seconds]]
    show(f"fork of a parent with {voters:,} voters, {events:,} events (filling took {filling.seconds:.1f} s)",
         ["step", "items", "seconds", "items/s"], rows)
    path = save("fork", {"voters": voters, "events": events,
                         "rows": [dict(zip(("step", "items", "seconds", "per_s"), r)) for r in rows]})
    console.print(f"saved {path}")


if __name__ == "__main__":
    main()
