"""Make the golden record archives the compilers are held to: a voter list and a count, through the real lifecycle.

The archives were made once, by the compilers as they were before the cut was first read in columns; the tests
compile their events again and must give the very bytes stored in them. Rerun this only to add a case, and then
only with compilers already known to give the stored bytes.

Run: .venv/bin/python services/counter/tests/unit/golden/make_goldens.py
Writes services/counter/tests/unit/golden/count.tar.gz and services/registry/tests/unit/golden/list.tar.gz.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import random
import tempfile
import uuid
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from civitas_counter import compile_count
from civitas_kernel.canonical import canonical_json
from civitas_kernel.events import NewEvent
from civitas_kernel.records import RecordKind, RecordStore
from civitas_kernel.signing import SiteKey
from civitas_kernel.sql.engine import create_engine
from civitas_kernel.sql.sqlite import SQLiteEventLog
from civitas_kernel.voter_list import decode_voter_list
from civitas_registry import ListConfig, compile_voter_list
from civitas_schema.v1 import doubt_pb2, poll_pb2, registration_pb2, trust_pb2, vote_pb2

HERE = Path(__file__).parent
SITE = "golden.example.org"
CONFIG = ListConfig(pre_registration_min=1, range_prefix=1)


def compile_list(events, config: bytes, depends: dict[str, bytes]) -> bytes:
    return compile_voter_list(events, ListConfig.from_json(config))


def compile_counts(events, config: bytes, depends: dict[str, bytes]) -> bytes:
    return compile_count(events, decode_voter_list(depends["list"]))


def voter(i: int) -> str:
    # Addresses of different shapes and lengths, a few outside ASCII: interning must order them as text does.
    return [f"v{i}@golden.example.org", f"ana.{i}@b.example", f"zoë{i}@example.org", f"{i}x@q.example.net"][i % 4]


def register_events(rng: random.Random, voters: int) -> list[tuple[str, NewEvent]]:
    out: list[tuple[str, NewEvent]] = []

    def put(stream: str, message, actor: str) -> None:
        out.append((stream, NewEvent.of(message, actor)))

    def attribute(v: str, name: str, value: str | None, actor: str | None = None) -> None:
        message = (registration_pb2.AttributeUnset(voter=v, attribute=name) if value is None
                   else registration_pb2.AttributeSet(voter=v, attribute=name, value=value))
        put("registration", message, actor or v)

    homes = ["{n} Elm St, Springfield A0{k}1{m}", "Flat {n}, London SW1A {k}AA", "{n} Straße, Zürich 80{k}{m}",
             "{n} Rue Haute, Lyon B{k}{m}00", "{n} Main St, K{k}A 0B{m}"]

    def home(n: int) -> str:  # one in twenty names no postal code
        if rng.random() < 0.05:
            return "Somewhere near the river"
        return rng.choice(homes).format(n=n, k=rng.randrange(3), m=rng.randrange(4))

    for i in range(voters):
        if rng.random() < 0.93:
            attribute(voter(i), "residence", home(rng.randrange(1, 300)))
        if rng.random() < 0.5:
            attribute(voter(i), "name", rng.choice(["Ana", "Zoë", "Ömer", "Li Wei", "Jo"]) + f" {i}")
        if rng.random() < 0.1:
            attribute(voter(i), "link", f"https://golden.example.org/~{i}")
        if rng.random() < 0.07:
            attribute(voter(i), "note", f"note {i}: here since {1990 + i % 30}")
    organisers = rng.sample(range(voters), 12)
    for o in organisers:
        put("trust", trust_pb2.PrimaryTrustExtended(voter=voter(o), edges=rng.randrange(1, 7)), "registrar")
    for i in range(voters // 3):  # pre-registrations by organisers
        attribute(voter(rng.randrange(voters)), "note", f"pre-registered {i}", actor=voter(rng.choice(organisers)))
    edges: list[tuple[int, int]] = []
    start = 0
    while start < voters:  # chains of trust, some closed into cycles
        length = rng.randrange(2, 25)
        chain = list(range(start, min(start + length, voters)))
        edges += list(zip(chain, chain[1:]))
        if rng.random() < 0.3 and len(chain) > 2:
            edges.append((chain[-1], chain[0]))
        start += length
    edges += [(rng.randrange(voters), rng.randrange(voters)) for _ in range(voters * 4)]
    edges += [(o, rng.randrange(voters)) for o in organisers for _ in range(30)]
    edges = [e for e in edges if e[0] != e[1]]
    for s, d in edges:
        put("trust", trust_pb2.TrustExtended(truster=voter(s), trustee=voter(d)), voter(s))
        if rng.random() < 0.08:
            put("trust", trust_pb2.TrustWithdrawn(truster=voter(s), trustee=voter(d)), voter(s))
            if rng.random() < 0.3:
                put("trust", trust_pb2.TrustExtended(truster=voter(s), trustee=voter(d)), voter(s))
    for k in range(12):  # trust in addresses no event registers: named only by others
        put("trust", trust_pb2.TrustExtended(truster=voter(rng.randrange(voters)), trustee=f"ghost{k}@nowhere.example"),
            voter(k))
    put("trust", trust_pb2.PrimaryTrustWithdrawn(voter=voter(organisers[0])), "registrar")
    put("trust", trust_pb2.PrimaryTrustExtended(voter=voter(organisers[1]), edges=5), "registrar")
    for i in range(voters // 6):  # moves, and attributes taken back
        v = voter(rng.randrange(voters))
        roll = rng.random()
        if roll < 0.6:
            attribute(v, "residence", home(i))
        elif roll < 0.8:
            attribute(v, "name", None)
        else:
            attribute(v, "residence", None)
    for _ in range(voters // 6):
        a, b = rng.sample(range(voters), 2)
        reason = rng.choice(["moved away", "twice"])
        put("doubt", doubt_pb2.DoubtRaised(doubter=voter(a), doubted=voter(b), reason=reason), voter(a))
        if rng.random() < 0.25:
            put("doubt", doubt_pb2.DoubtWithdrawn(doubter=voter(a), doubted=voter(b)), voter(a))
    return interleaved(rng, out)


def interleaved(rng: random.Random, events: list[tuple[str, NewEvent]]) -> list[tuple[str, NewEvent]]:
    """The streams' events interleaved at random, each stream's in the order given."""
    queues = {stream: [e for e in events if e[0] == stream][::-1] for stream in dict.fromkeys(s for s, _ in events)}
    out = []
    while queues:
        stream = rng.choice(sorted(queues))
        out.append(queues[stream].pop())
        if not queues[stream]:
            del queues[stream]
    return out


def poll_events(rng: random.Random, voters: int) -> list[tuple[str, NewEvent]]:
    out: list[tuple[str, NewEvent]] = []

    def poll(**fields) -> None:
        out.append(("poll", NewEvent.of(poll_pb2.PollConfigured(**fields), "operator")))

    def cast(name: str, v: str, candidate: str) -> None:
        out.append(("vote", NewEvent.of(vote_pb2.VoteCast(poll=name, voter=v, candidate=candidate), v)))

    poll(name="mayor", title="Mayor", kind=poll_pb2.POLL_KIND_ELECTORAL)
    poll(name="ward-a", title="Ward A", kind=poll_pb2.POLL_KIND_ELECTORAL, district="A0", min_trust=1)
    poll(name="budget", title="Budget", kind=poll_pb2.POLL_KIND_NORMATIVE)
    poll(name="empty", title="Nobody votes here")
    for name, share in (("mayor", 1.0), ("ward-a", 0.5), ("budget", 0.6)):
        members = [i for i in range(voters) if rng.random() < share]
        rng.shuffle(members)
        at = 0
        while at < len(members):  # chains up to 30 deep, ending at a top candidate, in a cycle or at a self-vote
            chain = members[at:at + rng.randrange(1, 31)]
            at += len(chain)
            for a, b in zip(chain, chain[1:]):
                cast(name, voter(a), voter(b))
            end = rng.random()
            if name == "budget" and end < 0.5:
                cast(name, voter(chain[-1]), f"https://golden.example.org/proposal/{rng.randrange(5)}")
            elif end < 0.15 and len(chain) > 1:
                cast(name, voter(chain[-1]), voter(chain[rng.randrange(len(chain) - 1)]))  # back into the chain
            elif end < 0.2:
                cast(name, voter(chain[-1]), voter(chain[-1]))  # a self-vote
            elif end < 0.25:
                cast(name, voter(chain[-1]), f"ghost{rng.randrange(12)}@nowhere.example")
            else:
                cast(name, voter(chain[-1]), voter(rng.randrange(8)))
        for k in range(6):  # not on the voter list
            cast(name, f"stranger{k}@elsewhere.example", voter(rng.randrange(voters)))
        for _ in range(len(members) // 12):  # changed minds and withdrawn votes
            v = voter(rng.choice(members))
            if rng.random() < 0.5:
                out.append(("vote", NewEvent.of(vote_pb2.VoteWithdrawn(poll=name, voter=v), v)))
            if rng.random() < 0.6:
                cast(name, v, voter(rng.randrange(voters)))
    out.append(("vote", NewEvent.of(vote_pb2.VoteWithdrawn(poll="mayor", voter="never@voted.example"), "operator")))
    poll(name="budget", title="Budget", kind=poll_pb2.POLL_KIND_NORMATIVE, district="A")  # reconfigured after the votes
    return interleaved(rng, out)


def append(log: SQLiteEventLog, events: list[tuple[str, NewEvent]], rng: random.Random) -> None:
    pending = list(events)
    while pending:
        size = rng.randrange(1, 60)
        batch, pending = pending[:size], pending[size:]
        for stream, group in itertools.groupby(batch, key=lambda se: se[0]):
            log.append(stream, [e for _, e in group])


def main() -> None:
    rng = random.Random(20)
    key = SiteKey(Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"civitas golden site").digest()))
    ids = (str(uuid.UUID(int=i)) for i in itertools.count(1))
    clock = itertools.count(1_700_000_000_000_000, 1000)
    with tempfile.TemporaryDirectory() as tmp:
        log = SQLiteEventLog(create_engine(f"sqlite:///{tmp}/log.sqlite"), SITE, key,
                             clock=lambda: next(clock), new_event_id=lambda: next(ids))
        append(log, register_events(rng, 500), rng)
        append(log, poll_events(rng, 500), rng)
        kinds = {
            "list": RecordKind("list", ("registration", "trust", "doubt"), "result.tsv", compile_list, CONFIG.to_json),
            "count": RecordKind("count", ("poll", "vote"), "result.tsv", compile_counts, lambda: canonical_json({}),
                                ("list",)),
        }
        store = RecordStore(Path(tmp) / "records", log, kinds, clock=lambda: 1_700_000_100_000_000)
        store.run("list")
        store.run("count")
        for kind, target in (("list", HERE.parents[3] / "registry/tests/unit/golden"), ("count", HERE)):
            data = store.archive_path(kind, 1).read_bytes()
            with open(target / f"{kind}.tar.gz", "wb") as out, gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as z:
                z.write(data)
            events = sum(c["seq"] for c in store.get(kind, 1).snap["cut"])
            print(f"{kind}: {events} events, archive {len(data):,} bytes -> {target / f'{kind}.tar.gz'}")
        log.engine.dispose()


if __name__ == "__main__":
    main()
