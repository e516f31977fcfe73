"""Count and audit figures: a poll of 1,000,000 cast votes (chains up to ~1,000 deep, cycles included),
compiled into a count record through the real lifecycle, then audited from its archive alone.

Run: .venv/bin/python bench/count_audit.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from cascade import generate  # noqa: E402
from common import Timer, console, save, show  # noqa: E402

from civitas.settings import Settings  # noqa: E402
from civitas_counter import COMPILERS  # noqa: E402

from civitas.site import Site  # noqa: E402
from civitas_counter import compile_count, parse_count  # noqa: E402
from civitas_kernel.audit import audit_archive  # noqa: E402
from civitas_kernel.events import NewEvent  # noqa: E402
from civitas_kernel.voter_list import decode_voter_list  # noqa: E402
from civitas_schema.v1 import registration_pb2, vote_pb2  # noqa: E402

BATCH = 10_000


def address(i: int) -> str:
    return f"v{i}@bench.example.org"


def append_in_batches(site: Site, stream: str, events) -> None:
    batch = []
    for event in events:
        batch.append(event)
        if len(batch) == BATCH:
            site.log.append(stream, batch)
            batch = []
    if batch:
        site.log.append(stream, batch)


def build(site: Site, votes: int) -> int:
    n, candidate, cast = generate(votes)
    voters = np.flatnonzero(candidate >= 0)
    # Registered with a residence that parses; the generator's barred voters never registered.
    append_in_batches(site, "registration", (
        NewEvent.of(registration_pb2.AttributeSet(voter=address(i), attribute="residence", value=f"{i} Road, Town A{i % 1000:04d}"), address(i))
        for i in voters[cast[voters]].tolist()))
    site.polls.create("bench")
    append_in_batches(site, "vote", (
        NewEvent.of(vote_pb2.VoteCast(poll="bench", voter=address(i), candidate=address(c)), address(i))
        for i, c in zip(voters.tolist(), candidate[voters].tolist())))
    return int(cast.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    votes = 20_000 if args.quick else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        site = Site(Settings(HOME=Path(tmp) / "home", SITE="localhost"))
        with console.status(f"appending {votes:,} registrations and votes"), Timer() as build_time:
            cast = build(site, votes)
        with Timer() as list_time:
            site.compile("list")
        with Timer() as count_time:
            site.compile("count")
        voter_list = decode_voter_list(site.records.result("list", 1))
        events = list(site.log.read("poll")) + list(site.log.read("vote"))
        with Timer() as compile_time:
            result = compile_count(events, voter_list)
        poll = parse_count(result).polls["bench"]
        assert poll.turnout == cast, (poll.turnout, cast)
        with Timer() as audit_time:
            report = audit_archive(site.records.archive_path("count", 1), COMPILERS)
        assert report.matches
    figures = {
        "votes": votes, "cast": cast, "turnout": poll.turnout, "append_s": build_time.seconds,
        "list_record_s": list_time.seconds, "count_record_s": count_time.seconds,
        "compile_count_s": compile_time.seconds, "audit_s": audit_time.seconds, "audit_events": report.events,
    }
    show(f"a poll of {votes:,} votes", ["turnout", "list record s", "count record s", "compile_count s", "audit s"],
         [[poll.turnout, list_time.seconds, count_time.seconds, compile_time.seconds, audit_time.seconds]])
    save("count_audit", figures)


if __name__ == "__main__":
    main()
