"""The decision records: snapped, readied, mounted and reported with the kernel's RecordStore, like lists and counts.

A decision is only ever this record: whether a proposal is approved is read from a mounted decision's
result, checked against the site's signature, and from nowhere else. Each decision is made once: a file
lock keeps two processes (`civitas up` and `civitas change decide`) from snapping the same decision, and a
decision snapped but not yet ready (the process died) is finished from its snap, not snapped again.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from civitas_kernel.commands import CommandError
from civitas_kernel.errors import SegmentError
from civitas_kernel.log import EventLog
from civitas_kernel.records import Record, RecordKind, RecordStore

from civitas_deployer.decision_record import KIND, RESULT, DecisionPlan, compile_decision
from civitas_deployer.domain.decision_text import MODULE
from civitas_deployer.domain.resolve import Resolution

log = logging.getLogger("civitas.deployer")
STREAMS = ("change",)
_TALLY_KEYS = ("yes", "no", "abstain", "quorum_met", "majority_met", "approved")


@dataclass(frozen=True)
class DecisionSummary:
    """What a decision record says at its head: the revision decided, whether approved, the tally per module."""

    record: int
    proposal: str
    revision: int
    content_hash: str
    approved: bool
    electorate: int
    tally: dict[str, dict[str, int | bool]]
    archive: Path

    def as_dict(self) -> dict:
        return {"record": self.record, "proposal": self.proposal, "revision": self.revision,
                "content_hash": self.content_hash, "approved": self.approved, "electorate": self.electorate,
                "tally": self.tally, "archive": str(self.archive)}


def summary_of(record: int, result: bytes, archive: Path) -> DecisionSummary:
    """The head of a decision's text and each module's tally, skipping the voters' lines."""
    head_end = result.find(b"\n" + MODULE.encode())
    lines = result[:head_end].decode().split("\n")[1:]
    head = dict(line.split("\t", 1) for line in lines if not line.startswith("path\t"))
    tally = {}
    at = head_end
    while at >= 0:
        lines = result[at + 1:result.find(b"\nvoter\t", at)].decode().split("\n")
        module = lines[0].removeprefix(MODULE)
        values = dict(line.split("\t") for line in lines[1:])
        tally[module] = {k: int(values[k]) if k in ("yes", "no", "abstain") else values[k] == "1"
                         for k in _TALLY_KEYS}
        at = result.find(b"\n" + MODULE.encode(), at + 1)
    return DecisionSummary(record, head["proposal"], int(head["revision"]), head["content_hash"],
                           head["approved"] == "1", int(head["electorate"]), tally, archive)


def _sections(result: bytes) -> dict[str, tuple[int, int]]:
    """module -> (start, end) of its section in a decision's text."""
    marker = b"\n" + MODULE.encode()
    found, at = {}, result.find(marker)
    while at >= 0:
        end = result.find(marker, at + 1)
        found[result[at + len(marker):result.find(b"\n", at + 1)].decode()] = (at, end if end >= 0 else len(result))
        at = end
    return found


def _resolution(result: bytes, section: tuple[int, int], voter: str) -> Resolution | None:
    at = result.find(b"\n" + voter.encode() + b"\t", *section)
    if at < 0:
        return None
    _, vote, how, scope, via = result[at + 1:result.find(b"\n", at + 1)].decode().split("\t")
    return Resolution(vote or None, how, scope, tuple(via.split(",")) if via else ())


def resolutions_in(result: bytes, voter: str) -> dict[str, tuple[Resolution, list[str]]]:
    """module -> (how `voter`'s vote resolved, its chain) as a decision's text records them; {} outside its electorate.

    The chain follows each delegate's own line, as `chain` does on a live tally."""
    found = {}
    for module, section in _sections(result).items():
        mine = _resolution(result, section, voter)
        if mine is None:
            continue
        path, seen, current = [voter], {voter}, mine
        while current is not None and current.via:
            if len(current.via) > 1:
                path.append("+".join(current.via))
                break
            path.append(current.via[0])
            if current.via[0] in seen:
                break
            seen.add(current.via[0])
            current = _resolution(result, section, current.via[0])
        found[module] = (mine, path)
    return found


class DecisionRecords:
    """The decision records of one log, under ROOT/decision/ (ROOT is CIVITAS_HOME/records)."""

    def __init__(self, root: Path, log_: EventLog, clock: Callable[[], int]) -> None:
        self.root, self.log, self.clock = Path(root), log_, clock
        self._summaries: dict[int, DecisionSummary | None] = {}  # records never change: each is read once
        self._last_result: tuple[int | None, bytes] = (None, b"")
        self._lock = threading.Lock()

    def store(self, plan: DecisionPlan | None = None) -> RecordStore:
        """A RecordStore whose decision kind snaps `plan`'s configuration (the kind's configuration is per decision)."""
        def config() -> bytes:
            if plan is None:
                raise CommandError("a decision is snapped only for a proposal whose voting has closed: "
                                   "`civitas change decide` makes them")
            return plan.to_json()

        return RecordStore(self.root, self.log, {KIND: RecordKind(KIND, STREAMS, RESULT, compile_decision, config)},
                           clock=self.clock)

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """One decider at a time, in this process and across processes on this CIVITAS_HOME."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.root / f"{KIND}.lock", "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def _ids(self) -> list[int]:
        """The records' ids, from their folders (ROOT/decision/NNNNNN), without reading each snap."""
        folder = self.root / KIND
        return sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit()) if folder.exists() else []

    def _finish(self, store: RecordStore, record: Record) -> Record:
        """ready -> mount -> report, from wherever the record stands; report only moves forward."""
        if not record.ready:
            record = store.ready(KIND, record.id)
        if not record.mounted:
            record = store.mount(KIND, record.id)
        reported = store.reported_id(KIND)
        if reported is None or reported < record.id:
            record = store.report(KIND, record.id)
        return record

    def record(self, plan: DecisionPlan) -> DecisionSummary:
        """The decision on `plan`'s revision: recorded now unless it is already (then that one, unchanged)."""
        with self._exclusive():
            done = self.decided().get((plan.proposal, plan.content_hash))
            if done is not None:
                return done
            store = self.store(plan)
            record = self._finish(store, store.snap(KIND))
            return self._summary(record.id)

    def finish_pending(self) -> list[DecisionSummary]:
        """Ready, mount and report every decision snapped and not finished (the process stopped in between)."""
        finished = []
        with self._exclusive():
            store = self.store()
            decided = self.decided()
            for record_id in self._ids():
                if self._summaries.get(record_id) is not None:
                    continue
                record = store.get(KIND, record_id)
                if record.mounted:
                    continue
                config = record.snap["config"]
                if (config["proposal"], config["content_hash"]) in decided:
                    continue  # decided by a later record meanwhile; this one is left as it is
                self._finish(store, record)
                summary = self._summary(record.id)
                decided[(summary.proposal, summary.content_hash)] = summary
                finished.append(summary)
        return finished

    def decided(self) -> dict[tuple[str, str], DecisionSummary]:
        """(proposal, content hash) -> its decision, for every mounted decision whose archive the site signed."""
        found = {}
        for record_id in self._ids():
            summary = self._summary(record_id)
            if summary is not None:
                found.setdefault((summary.proposal, summary.content_hash), summary)
        return found

    def _summary(self, record_id: int) -> DecisionSummary | None:
        if record_id in self._summaries:
            return self._summaries[record_id]
        store = self.store()
        if not store.archive_path(KIND, record_id).exists() or not store.get(KIND, record_id).mounted:
            return None  # not decided until mounted; not cached, since this or another process may finish it
        try:
            summary = summary_of(record_id, store.result(KIND, record_id), store.archive_path(KIND, record_id))
        except (SegmentError, KeyError, ValueError) as error:  # an archive the site did not sign decides nothing
            log.error("decision record %s is not a decision of this site and is ignored: %s", record_id, error)
            summary = None
        self._summaries[record_id] = summary
        return summary

    def result(self, summary: DecisionSummary) -> bytes:
        """A decision's text, checked against its signed manifest; the last one read is kept (pages show one)."""
        if self._last_result[0] != summary.record:
            self._last_result = (summary.record, self.store().result(KIND, summary.record))
        return self._last_result[1]
