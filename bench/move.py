"""Move figures: what a voter's move A → B costs when A holds N voters, and how much of it is gathering their events.

Run: .venv/bin/python bench/move.py [--voters N] [--moves M] [--quick]

A holds N voters, each with a residence and five trust edges given, and the registrar's primary trust in every tenth
(as bench/fork.py's parent). A and B are embedded sites in this process, each serving its move routes over real HTTP
on loopback and naming the other as a peer. Each of M voters accepts the move on B, then moves on A: the signed ask,
the statement (gathering the voter's events through A's index by voter, built at the first move), its write, the
delivery and B's checks and write.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import Timer, console, save, show  # noqa: E402
from fork import fill, voter  # noqa: E402

from fastapi import FastAPI  # noqa: E402

from civitas.moves_routes import moves_router  # noqa: E402
from civitas.settings import Settings  # noqa: E402
from civitas.site import Site, dispatch  # noqa: E402
from civitas_kernel.service.problems import install_problem_handlers  # noqa: E402
from civitas_kernel.testing.serving import ServerThread  # noqa: E402
from civitas_kernel.voter_command import VoterCommand  # noqa: E402
from civitas_registry.gathering import own_events_of, own_index  # noqa: E402
from civitas_sync import Peer, attach_peer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=50_000)
    parser.add_argument("--moves", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="5,000 voters")
    args = parser.parse_args()
    voters = 5_000 if args.quick else args.voters
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        root = Path(tmp)
        sites = {name: Site(Settings(HOME=root / name, SITE=name, COMPILE_EVERY_MINUTES=0))
                 for name in ("a.example", "b.example")}
        a, b = sites["a.example"], sites["b.example"]
        with Timer() as filling:
            events = fill(a.log, voters)
        threads = {name: ServerThread() for name in sites}
        for name, site in sites.items():
            other = b if site is a else a
            attach_peer(site.settings.HOME, name, Peer(other.settings.SITE, "peripheral",
                                                       threads[other.settings.SITE].url, other.key.public_key))
            app = FastAPI()
            install_problem_handlers(app)
            app.include_router(moves_router(site))
            stack.enter_context(threads[name].serving(app))
        movers = [voter((i * 7919) % voters) for i in range(args.moves)]
        with Timer() as indexing:  # what the first move after a start pays
            index = own_index(a.log)
            index.catch_up()
        with Timer() as gathering:
            for who in movers:
                own_events_of(index, who)
        for who in movers:
            dispatch(b, VoterCommand(who, "register", ("accept-move", "a.example")), local=True)
        def move(who: str) -> None:
            reply = dispatch(a, VoterCommand(who, "register", ("move", "b.example")), local=True)
            assert reply.data["arrived"], reply.text

        with Timer() as first:  # the site's first move indexes its streams by voter
            move(movers[0])
        with Timer() as moving:
            for who in movers[1:]:
                move(who)
    n = len(movers)
    rows = [[f"index A's {events:,} events by voter (once a process)", 1, indexing.seconds, 1 / indexing.seconds],
            ["gather a voter's events from the index", n, gathering.seconds, n / gathering.seconds],
            ["the first move (ask, index, gather, write, deliver, B records)", 1, first.seconds, 1 / first.seconds],
            ["later moves", n - 1, moving.seconds, (n - 1) / moving.seconds]]
    show(f"moves from a site of {voters:,} voters, {events:,} events (filling took {filling.seconds:.1f} s)",
         ["step", "moves", "seconds", "moves/s"], rows)
    path = save("move", {"voters": voters, "events": events,
                         "rows": [dict(zip(("step", "moves", "seconds", "per_s"), r)) for r in rows]})
    console.print(f"saved {path}")


if __name__ == "__main__":
    main()
