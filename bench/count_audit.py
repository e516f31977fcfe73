"""Record and audit figures at a million voters, each against the floor of reading the cut's bytes once.

Two sites are built through the real log (each timed step then runs alone in a fresh process, which reports
its peak resident set, and that of any worker it forked, 0 when none):

* count: 1,000,000 registrants with a residence, and a poll of 1,000,000 cast votes (chains up to ~1,000 deep,
  cycles; the generator's barred voters never registered). Figures: the voter list record it is counted against,
  the count record, and the audit of the count archive alone.
* list: 1,000,000 registrants (about 1% give no postal code, so are barred) and 5,000,000 trust edges of a
  neighbourhood network with organisers holding primary edges. Figures: the list record and its audit.

The floor is the time, in the same run, to read the archive's events.seg bytes and SHA-256 them once; cpu s is the
step's CPU time (every thread), steadier than its wall time on a machine shared with other work; user s is the
part of it spent in the program itself, steadier still where the kernel's page faults and writes swing.
Run: .venv/bin/python bench/count_audit.py [--quick | --size N] [--cases count,list] [--sites DIR]
(--sites keeps the built sites in DIR and reuses them on the next run; building a million-voter site takes minutes.)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from cascade import generate  # noqa: E402
from common import Timer, console, save, show  # noqa: E402
from trust_levels import neighbourhood_network, peak_rss_mib  # noqa: E402

from civitas.settings import Settings  # noqa: E402
from civitas_counter import COMPILERS, parse_count  # noqa: E402

from civitas.site import Site  # noqa: E402
from civitas_kernel.audit import audit_archive  # noqa: E402
from civitas_kernel.huge_pages import run_again_on_huge_pages  # noqa: E402
from civitas_kernel.events import NewEvent  # noqa: E402
from civitas_kernel.voter_list import decode_voter_list  # noqa: E402
from civitas_schema.v1 import registration_pb2, trust_pb2, vote_pb2  # noqa: E402

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


def residence(i: int, hood: int) -> registration_pb2.AttributeSet:
    return registration_pb2.AttributeSet(voter=address(i), attribute="residence", value=f"{i} Road, Town A{hood:05d}")


def build_count(site: Site, votes: int) -> dict:
    n, candidate, cast = generate(votes)
    voters = np.flatnonzero(candidate >= 0)
    append_in_batches(site, "registration", (
        NewEvent.of(residence(i, i % 1000), address(i)) for i in voters[cast[voters]].tolist()))
    site.polls.create("bench")
    append_in_batches(site, "vote", (
        NewEvent.of(vote_pb2.VoteCast(poll="bench", voter=address(i), candidate=address(c)), address(i))
        for i, c in zip(voters.tolist(), candidate[voters].tolist())))
    return {"cast": int(cast.sum())}


def build_list(site: Site, registrants: int) -> dict:
    primary, src, dst, hood = neighbourhood_network(registrants)
    homeless = np.random.default_rng(7).random(registrants) < 0.01  # barred: their residence names no postal code
    append_in_batches(site, "registration", (
        NewEvent.of(registration_pb2.AttributeSet(voter=address(i), attribute="residence", value="Somewhere")
                    if homeless[i] else residence(i, h), address(i))
        for i, h in enumerate(hood.tolist())))
    organisers = np.flatnonzero(primary)
    append_in_batches(site, "trust", (
        NewEvent.of(trust_pb2.PrimaryTrustExtended(voter=address(i), edges=e), "registrar")
        for i, e in zip(organisers.tolist(), primary[organisers].tolist())))
    append_in_batches(site, "trust", (
        NewEvent.of(trust_pb2.TrustExtended(truster=address(s), trustee=address(d)), address(s))
        for s, d in zip(src.tolist(), dst.tolist())))
    return {"registrants": registrants, "trust_edges": int(src.size), "primary": int(organisers.size)}


def open_site(home: Path) -> Site:
    return Site(Settings(HOME=home, SITE="localhost"))


def built(base: Path, case: str, size: int) -> Path:
    """The site of a case, built once (a marker file says it is whole)."""
    home = base / f"{case}-{size}"
    marker = home / "built.json"
    if not marker.exists():
        with console.status(f"building the {case} site ({size:,})"), Timer() as t:
            site = open_site(home)
            facts = (build_count if case == "count" else build_list)(site, size)
        marker.write_text(json.dumps({**facts, "build_s": t.seconds}))
    return home


def step(home: Path, what: str) -> dict:
    """One timed step, in this (fresh) process: `list`, `count`, `audit-list` or `audit-count`."""
    site = open_site(home)
    facts: dict = {}
    cpu, user = _cpu_s(), _user_s()
    if what.startswith("audit-"):
        kind = what.removeprefix("audit-")
        with Timer() as t:
            report = audit_archive(site.records.archive_path(kind, site.records.reported_id(kind)), COMPILERS)
        cpu, user = _cpu_s() - cpu, _user_s() - user
        assert report.matches, report.difference
        facts["events"] = report.events
    else:
        with Timer() as t:
            site.compile(what)
        cpu, user = _cpu_s() - cpu, _user_s() - user  # the step's alone, not the reading of its result below
        result = site.records.reported_result(what)
        if what == "count":
            facts["turnout"] = parse_count(result).polls["bench"].turnout
        else:
            facts["registrants"] = len(decode_voter_list(result))
    worker_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": t.seconds, "cpu_s": cpu, "user_s": user, "peak_mib": peak_rss_mib(), "worker_peak_mib": worker_mib,
            **facts}


def _cpu_s() -> float:
    """CPU seconds (user and system, every thread and worker) so far: on a shared machine, steadier than the wall."""
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def _user_s() -> float:
    """CPU seconds in the program itself so far (without the kernel's share: page faults, reads and writes, which
    on a virtual machine swing with the host's memory and disk)."""
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + workers.ru_utime


def in_child(home: Path, what: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--step", what, "--home", str(home)],
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def floor(archive: Path) -> tuple[float, int]:
    """Seconds to read the archive's events.seg and SHA-256 it, and its size in bytes."""
    with tarfile.open(archive) as tar:
        member = tar.getmember("events.seg")
    with Timer() as t, open(archive, "rb", buffering=0) as f:
        f.seek(member.offset_data)
        digest, left = hashlib.sha256(), member.size
        while left:
            chunk = f.read(min(left, 1 << 20))
            digest.update(chunk)
            left -= len(chunk)
    return t.seconds, member.size


def write_floor(archive: Path, size: int) -> float:
    """Seconds to write `size` bytes into a new file beside the archive through the page cache, a MiB at a time,
    as the export writes the cut (the file is removed after)."""
    chunk, path = bytes(range(256)) * 4096, archive.with_name("write-floor.tmp")
    try:
        with Timer() as t, open(path, "wb", buffering=0) as f:
            for at in range(0, size, len(chunk)):
                f.write(chunk[: min(len(chunk), size - at)])
    finally:
        path.unlink(missing_ok=True)
    return t.seconds


def fresh_memory_s_per_gib() -> float:
    """Seconds per GiB to touch memory fresh from the system (a byte per page): what each new page of a step
    costs here, beside the program's own work (on some virtual machines many times a bare machine's)."""
    size = 512 << 20
    with Timer() as t:
        block = bytearray(size)  # calloc: mapped, not yet touched
        block[::4096] = b"\1" * (size // 4096)
    del block
    return t.seconds * (1 << 30) / size


def run_case(base: Path, case: str, size: int) -> dict:
    home = built(base, case, size)
    steps = ["list", "count", "audit-count"] if case == "count" else ["list", "audit-list"]
    figures = {"built": json.loads((home / "built.json").read_text())}
    for what in steps:
        with console.status(f"{case} site: {what}"):
            figures[what] = in_child(home, what)
        kind = what.removeprefix("audit-")
        site = open_site(home)
        archive = site.records.archive_path(kind, site.records.reported_id(kind))
        figures[what]["floor_s"], figures[what]["segment_bytes"] = floor(archive)
        if not what.startswith("audit-"):
            figures[what]["write_s"] = write_floor(archive, figures[what]["segment_bytes"])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--size", type=int, help="voters per site (default 1,000,000; --quick 20,000)")
    parser.add_argument("--cases", default="count,list")
    parser.add_argument("--sites", type=Path, help="keep the built sites here and reuse them")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--fresh-memory", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fresh_memory:
        print(fresh_memory_s_per_gib())
        return
    if args.step:
        run_again_on_huge_pages()  # as `civitas list`, `count` and `audit` start (civitas.entry)
        print(json.dumps(step(args.home, args.step)))
        return
    size = args.size or (20_000 if args.quick else 1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        base = args.sites or Path(tmp)
        figures = {case: run_case(base, case, size) for case in args.cases.split(",")}
    rows = []
    for case, steps in figures.items():
        for what, f in steps.items():
            if what != "built":
                rows.append([case, what, f"{f['segment_bytes'] / 2**20:,.0f}", f"{f['seconds']:.2f}",
                             f"{f['cpu_s']:.2f}", f"{f.get('user_s', 0):.2f}", f"{f['floor_s']:.2f}",
                             f"{f['seconds'] / f['floor_s']:.1f}", f"{f['write_s']:.2f}" if "write_s" in f else "—",
                             f"{f['peak_mib']:,.0f}", f"{f['worker_peak_mib']:,.0f}"])
    show(f"records and audits, {size:,} voters",
         ["site", "figure", "cut MiB", "seconds", "cpu s", "user s", "floor s", "x floor", "write s", "peak MiB",
          "worker peak MiB"], rows)
    memory = float(subprocess.run([sys.executable, __file__, "--fresh-memory"], check=True, capture_output=True,
                                  text=True).stdout)  # in a fresh process, as each step runs
    console.print(f"fresh memory on this machine: {memory:.2f} s per GiB touched (a step's peak is paid at this rate)")
    save("count_audit", {"size": size, "fresh_memory_s_per_gib": memory, **figures})


if __name__ == "__main__":
    main()
