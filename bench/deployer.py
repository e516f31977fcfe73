"""Deployer figures: deciding a proposal from the folded state, and proposing a large patch.

Run: .venv/bin/python bench/deployer.py [--quick]

1. The tally of a proposal touching 3 modules, 100,000 voters in the electorate, 20,000 direct votes and
   60,000 delegations, generated from a fixed seed: chains up to 100 deep ending at direct voters or at
   earlier chains, rings of 2..20 voters with tails into them, "all of" delegations to 2 or 3 voters, and
   per-module delegations (or `none`) beside those for `*`. Goal: <= 1 s, from the folded
   state (ballots and delegations in memory) to the decision; the decision's canonical text is timed beside it.
2. The whole decision record of that case: the change stream (the proposal, 60,000 delegation events and
   20,000 ballots) in a SQLite log, the 100,000-voter list in its configuration; `ready` exports the cut as a
   segment, verifies it as it reads, folds it at the close, decides, writes the text and the signed archive.
   Goal: ready <= 10 s. snap, mount and the audit's recount of the archive are timed beside it.
3. Proposing a patch of 1,000 new files (`git format-patch` output) through ChangeCommands over a SQLite
   log: git applies it in a scratch index, the checks run, the event is appended. Goal: <= 2 s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import Timer, save, show  # noqa: E402

from civitas_kernel.audit import audit_archive  # noqa: E402
from civitas_kernel.events import NewEvent  # noqa: E402
from civitas_kernel.signing import SiteKey  # noqa: E402
from civitas_kernel.sql import open_log  # noqa: E402
from civitas_kernel.voter_list import VoterEntry, VoterList, encode_voter_list  # noqa: E402
from civitas_schema.v1 import change_pb2  # noqa: E402
from civitas_deployer import COMPILERS, ChangeCommands, DecisionRecords, LiveRepository  # noqa: E402
from civitas_deployer.decision_record import KIND, RULE_FILES, DecisionPlan  # noqa: E402
from civitas_deployer.domain.decision import Ballot, Subject, decide  # noqa: E402
from civitas_deployer.domain.decision_text import decision_text  # noqa: E402
from civitas_deployer.domain.modules import parse_modules  # noqa: E402
from civitas_deployer.domain.proposals import CHOICE_ENUM, Revision  # noqa: E402
from civitas_deployer.domain.resolve import CYCLE, DELEGATED, DISAGREE  # noqa: E402
from civitas_deployer.domain.rules import parse_governance  # noqa: E402
from civitas_deployer.records import summary_of  # noqa: E402

SEED = 20250115
HASH = "c" * 64
MODULES = parse_modules('[modules.pages]\npaths = ["pages/"]\n[modules.polls]\npaths = ["polls/"]\n'
                        '[modules.rules]\npaths = ["governance.toml", "modules.toml"]\n'
                        '[modules.maintenance]\npaths = ["maintenance/"]')
PATHS = ("pages/index.md", "polls/mayor.toml", "README.md")  # pages, polls and site


def generate(voters: int, direct: int, delegations: int, seed: int = SEED):
    """(electorate, ballots, delegations, deepest chain) of a generated site.

    Five in six delegations are for `*`, one per delegating voter, forming the rings and chains; the rest
    are for one module, given to some of those voters on top: to a direct voter, to someone in a chain,
    or `none`.
    """
    rng = random.Random(seed)
    names = [f"v{i:06d}@example.org" for i in range(voters)]
    rng.shuffle(names)
    every = delegations * 5 // 6
    direct_voters, delegators = names[:direct], names[direct:direct + every]
    ballots = [Ballot(v, HASH, rng.choice(("yes", "yes", "no", "abstain"))) for v in direct_voters]
    graph: dict[str, dict[str, tuple[str, ...]]] = {}
    chained: list[str] = []
    at, deepest = 0, 0
    rings = every // 50  # ~2% of delegators in rings
    while at < rings:
        ring = delegators[at:at + rng.randint(2, 20)]
        for i, v in enumerate(ring):
            graph[v] = {"*": (ring[(i + 1) % len(ring)],)}
        chained.extend(ring)
        at += len(ring)
    while at < len(delegators):
        length = 100 if deepest < 100 else rng.choice((1, 1, 2, 3, 5, 8, 13, 30, 60, 100))
        chain = delegators[at:at + length]
        at += len(chain)
        end = rng.choice(direct_voters) if not chained or rng.random() < 0.8 else rng.choice(chained)
        for i, v in enumerate(chain):
            target = chain[i + 1] if i + 1 < len(chain) else end
            if rng.random() < 0.05:  # "all of": this link and one or two others must agree
                graph[v] = {"*": tuple(sorted({target, *rng.sample(direct_voters, rng.randint(1, 2))}))}
            else:
                graph[v] = {"*": (target,)}
        chained.extend(chain)
        deepest = max(deepest, len(chain))
    for v in rng.sample(delegators, delegations - every):
        roll = rng.random()
        target = () if roll < 0.1 else (rng.choice(chained),) if roll < 0.2 else (rng.choice(direct_voters),)
        graph[v][rng.choice(("pages", "polls", "site", "maintenance"))] = target if target != (v,) else ()
    return frozenset(names), ballots, graph, deepest


def bench_tally(voters: int, direct: int, delegations: int, runs: int) -> dict:
    electorate, ballots, graph, deepest = generate(voters, direct, delegations)
    assert sum(len(scopes) for scopes in graph.values()) == delegations
    rules = parse_governance("")
    subject = Subject("1", 1, HASH, "b" * 40, PATHS)
    seconds, cpu_seconds, text_seconds = [], [], []
    for _ in range(runs):
        cpu = time.process_time()
        with Timer() as t:
            decision = decide(subject, rules, MODULES, electorate, ballots, graph)
        seconds.append(t.seconds)
        cpu_seconds.append(time.process_time() - cpu)
        with Timer() as t:
            text = decision_text(decision)
        text_seconds.append(t.seconds)
    hows = {how: sum(1 for x in decision.tallies for r in x.resolutions.values() if r.how == how)
            for how in (DELEGATED, CYCLE, DISAGREE)}
    rows = [[x.module, x.yes, x.no, x.abstain, "yes" if x.approved else "no"] for x in decision.tallies]
    show(f"tally: {voters:,} voters, {direct:,} direct votes, {delegations:,} delegations (deepest chain {deepest})",
         ["module", "yes", "no", "abstain", "approved"], rows)
    figures = {"voters": voters, "direct": direct, "delegations": delegations, "deepest_chain": deepest,
               "modules": len(decision.tallies), "tally_s_median": statistics.median(seconds),
               "tally_s_best": min(seconds), "tally_cpu_s_median": statistics.median(cpu_seconds),
               "text_s_median": statistics.median(text_seconds),
               "text_bytes": len(text), "resolved_through_delegation": hows[DELEGATED],
               "cycle": hows[CYCLE], "disagree": hows[DISAGREE]}
    show("tally timing (goal: tally <= 1 s)",
         ["runs", "tally s (median)", "tally s (best)", "tally CPU s (median)", "text s", "text MB"],
         [[runs, f"{figures['tally_s_median']:.3f}", f"{figures['tally_s_best']:.3f}",
           f"{figures['tally_cpu_s_median']:.3f}", f"{figures['text_s_median']:.3f}", f"{len(text) / 1e6:.1f}"]])
    return figures


def bench_record(voters: int, direct: int, delegations: int, runs: int) -> dict:
    electorate, ballots, graph, _ = generate(voters, direct, delegations)
    default = resources.files("civitas_deployer") / "default"
    rules = {name: (default / name).read_bytes() for name in RULE_FILES}
    voter_list = encode_voter_list([VoterEntry(v, 1) for v in electorate])
    revision = Revision(1, "b" * 40, "d" * 40, "e" * 40, PATHS, HASH, "t", "list 1", 1)
    events = [NewEvent.of(change_pb2.ProposalProposed(proposal="1", proposer=ballots[0].voter,
                                                      revision=revision.to_message()), ballots[0].voter)]
    events += [NewEvent.of(change_pb2.DelegationSet(voter=voter, scope=scope, delegates=list(to), none=not to), voter)
               for voter, scopes in graph.items() for scope, to in scopes.items()]
    events += [NewEvent.of(change_pb2.ChangeVoteCast(proposal="1", voter=b.voter, content_hash=HASH,
                                                     choice=CHOICE_ENUM[b.choice]), b.voter) for b in ballots]
    snap_s, ready_s, ready_cpu_s, mount_s, audit_s = [], [], [], [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            log = open_log(f"sqlite:///{tmp / 'log.sqlite'}", "bench.example.org", SiteKey.generate())
            for at in range(0, len(events), 5_000):
                log.append("change", events[at:at + 5_000])
            plan = DecisionPlan("1", 1, HASH, "b" * 40, 2**62, rules, "list 1", voter_list)
            store = DecisionRecords(tmp / "records", log, lambda: 1).store(plan)
            with Timer() as t:
                record = store.snap(KIND)
            snap_s.append(t.seconds)
            cpu = time.process_time()
            with Timer() as t:
                store.ready(KIND, record.id)
            ready_s.append(t.seconds)
            ready_cpu_s.append(time.process_time() - cpu)
            with Timer() as t:
                store.mount(KIND, record.id)
                store.report(KIND, record.id)
            mount_s.append(t.seconds)
            archive = store.archive_path(KIND, record.id)
            with Timer() as t:
                report = audit_archive(archive, COMPILERS, public_key=log.key.public_key)
            audit_s.append(t.seconds)
            assert report.matches
            size = archive.stat().st_size
            summary = summary_of(record.id, store.result(KIND, record.id), archive)
            log.engine.dispose()
    figures = {"voters": voters, "direct": direct, "delegations": delegations, "events": len(events),
               "archive_bytes": size, "snap_s_median": statistics.median(snap_s),
               "ready_s_median": statistics.median(ready_s), "ready_s_best": min(ready_s),
               "ready_cpu_s_median": statistics.median(ready_cpu_s),
               "mount_report_s_median": statistics.median(mount_s),
               "audit_s_median": statistics.median(audit_s), "approved": summary.approved}
    show(f"the decision record: {len(events):,} change events, {voters:,} voters on its list "
         f"({size / 1e6:.1f} MB archive; goal: ready <= 10 s)",
         ["runs", "snap s", "ready s (median)", "ready s (best)", "ready CPU s", "mount+report s", "audit s"],
         [[runs, f"{figures['snap_s_median']:.3f}", f"{figures['ready_s_median']:.2f}",
           f"{figures['ready_s_best']:.2f}",
           f"{figures['ready_cpu_s_median']:.2f}", f"{figures['mount_report_s_median']:.2f}",
           f"{figures['audit_s_median']:.2f}"]])
    return figures


class OneList:
    def __init__(self, voters: list[str]) -> None:
        self.list = VoterList([VoterEntry(v, 1) for v in voters])

    def reported(self):
        return "list 1", self.list

    def get(self, name: str) -> VoterList:
        return self.list


def git(cwd: Path, *args: str) -> bytes:
    return subprocess.run(["git", "-C", str(cwd), "-c", "user.name=Bench", "-c", "user.email=bench@example.org",
                           *args], check=True, capture_output=True).stdout


def bench_propose(files: int, runs: int) -> dict:
    seconds, stage_seconds, sizes = [], [], []
    for run in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            repo = LiveRepository.open_or_create(tmp / "live.git", 1_700_000_000_000_000)
            subprocess.run(["git", "clone", "--quiet", str(repo.path), str(tmp / "clone")], check=True,
                           capture_output=True)
            for i in range(files):
                page = tmp / "clone" / "pages" / f"section{i % 20:02d}" / f"page{i:04d}.md"
                page.parent.mkdir(parents=True, exist_ok=True)
                page.write_text(f"# Page {i}\n\n" + "".join(f"Line {j} of page {i}.\n" for j in range(20)))
            git(tmp / "clone", "add", "--all")
            git(tmp / "clone", "commit", "--quiet", "-m", f"{files} pages")
            patch = git(tmp / "clone", "format-patch", "-1", "--stdout")
            sizes.append(len(patch))
            with Timer() as t:
                with repo.stage(patch, title="t", proposer="bench@example.org", made_at_us=1) as staged:
                    assert len(staged.changed_paths) == files
            stage_seconds.append(t.seconds)
            log = open_log(f"sqlite:///{tmp / 'log.sqlite'}", "bench.example.org", SiteKey.generate())
            change = ChangeCommands(log, repo, OneList(["bench@example.org"]), clock=lambda: 1_700_000_000_000_000)
            change.catch_up()
            with Timer() as t:
                reply = change.propose("bench@example.org", patch, f"{files} pages, run {run}")
            seconds.append(t.seconds)
            assert len(reply.data["changed_paths"]) == files
            log.engine.dispose()
    figures = {"files": files, "patch_bytes": sizes[0], "propose_s_median": statistics.median(seconds),
               "propose_s_best": min(seconds), "stage_s_median": statistics.median(stage_seconds)}
    show(f"proposing a {files:,}-file patch ({sizes[0] / 1e6:.1f} MB; goal <= 2 s)",
         ["runs", "propose s (median)", "propose s (best)", "git apply + checks s (median)"],
         [[runs, f"{figures['propose_s_median']:.3f}", f"{figures['propose_s_best']:.3f}",
           f"{figures['stage_s_median']:.3f}"]])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a tenth of the voters, fewer runs")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    tally = bench_tally(100_000 // scale, 20_000 // scale, 60_000 // scale, runs=3 if args.quick else 5)
    record = bench_record(100_000 // scale, 20_000 // scale, 60_000 // scale, runs=2 if args.quick else 3)
    propose = bench_propose(1_000 // scale, runs=2 if args.quick else 3)
    if not args.quick:
        save("deployer", {"tally": tally, "record": record, "propose": propose})


if __name__ == "__main__":
    main()
