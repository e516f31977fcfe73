"""Snapshot records and their lifecycle: snap -> ready -> mount -> report (and umount, ureport).

`snap` records a cut of the log (the position and hash of each stream) and the configuration
in force; `ready` compiles the result from exactly that cut into an immutable, signed archive;
`mount` makes it available for queries; `report` makes it the one every interface shows.
Records live under ROOT/KIND/NNNNNN/; the reported one is named in ROOT/KIND/reported.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from civitas_schema.v1 import envelope_pb2

from civitas_kernel.archive import EVENTS, ArchiveInPlace, check_member, open_archive
from civitas_kernel.canonical import canonical_json
from civitas_kernel.commands import CommandError, ConflictError, NotFoundError
from civitas_kernel.cut import Cut
from civitas_kernel.growing import Growing, Stopped
from civitas_kernel.heap import heap_kept
from civitas_kernel.log import EventLog, Progress
from civitas_kernel.recount import Where, compile_verified
from civitas_kernel.segment import StreamSelection, write_segment

ACTIONS = ("snap", "ready", "mount", "report")
# A compiler gets the cut (a civitas_kernel.cut.Cut: iterate it for envelopes — type, actor, body ... — or ask it for
# columns), the configuration and its dependencies. The cut's bytes are verified alongside; its result counts only then.
Compile = Callable[[Cut | Iterable[envelope_pb2.Envelope], bytes, dict[str, bytes]], bytes]


@dataclass(frozen=True)
class RecordKind:
    """What a service contributes to the lifecycle: its streams, configuration and compiler."""

    name: str  # "list", "count"
    streams: tuple[str, ...]
    result_member: str  # e.g. "result.tsv"
    compile: Compile  # (events of the cut, configuration, results depended on) -> result bytes
    config: Callable[[], bytes]  # the configuration in force, canonical bytes
    depends_on: tuple[str, ...] = ()  # kinds whose reported record this one is compiled against
    origin: str | None = None  # whose streams are cut: another site's, received over the network; None: this site's


@dataclass
class Record:
    kind: str
    id: int
    snap: dict
    ready: bool = False
    mounted: bool = False
    reported: bool = False

    @property
    def label(self) -> str:
        return f"{self.kind} {self.id}"

    def as_dict(self) -> dict:
        return {"kind": self.kind, "id": self.id, "ready": self.ready, "mounted": self.mounted,
                "reported": self.reported, "snapped_at_us": self.snap["snapped_at_us"],
                "cut": self.snap["cut"], "depends": self.snap.get("depends", {}), "config": self.snap.get("config")}


@dataclass
class RecordStore:
    root: Path
    log: EventLog
    kinds: dict[str, RecordKind]
    clock: Callable[[], int] = field(default=lambda: 0)
    _results: dict[tuple[str, int], bytes] = field(default_factory=dict, repr=False)

    # -- where things are ----------------------------------------------------------------

    def _kind(self, kind: str) -> RecordKind:
        if kind not in self.kinds:
            raise NotFoundError(f"no record kind {kind!r}; kinds: {', '.join(sorted(self.kinds))}")
        return self.kinds[kind]

    def _dir(self, kind: str, record_id: int) -> Path:
        return self.root / kind / f"{record_id:06d}"

    def archive_path(self, kind: str, record_id: int) -> Path:
        return self._dir(kind, record_id) / "archive.tar"

    def _ids(self, kind: str) -> list[int]:
        base = self.root / kind
        return sorted(int(p.name) for p in base.iterdir() if p.name.isdigit()) if base.exists() else []

    def get(self, kind: str, record_id: int | None = None) -> Record:
        """A record by id, or the newest when no id is given."""
        self._kind(kind)
        ids = self._ids(kind)
        if record_id is None:
            if not ids:
                raise NotFoundError(f"there is no {kind} record yet; `civitas {kind} snap` makes one")
            record_id = ids[-1]
        folder = self._dir(kind, record_id)
        if not (folder / "snap.json").exists():
            raise NotFoundError(f"there is no {kind} record {record_id}; `civitas {kind} status` lists them")
        return Record(
            kind, record_id, json.loads((folder / "snap.json").read_text()),
            ready=(folder / "archive.tar").exists(), mounted=(folder / "mounted").exists(),
            reported=self.reported_id(kind) == record_id,
        )

    def status(self, kind: str) -> list[Record]:
        return [self.get(kind, i) for i in self._ids(kind)]

    def reported_id(self, kind: str) -> int | None:
        marker = self.root / kind / "reported"
        return int(marker.read_text()) if marker.exists() else None

    # -- the lifecycle ---------------------------------------------------------------------

    def snap(self, kind: str) -> Record:
        spec = self._kind(kind)
        depends = {}
        for dep in spec.depends_on:
            dep_id = self.reported_id(dep)
            if dep_id is None:
                raise CommandError(f"a {kind} is compiled against the reported {dep}, and none is reported: "
                                   f"run `civitas {dep}` first")
            depends[dep] = dep_id
        cut, site = [], spec.origin or self.log.site
        for stream in spec.streams:
            head = self.log.head(stream, site=site)  # another site's heads stand only where it signed
            cut.append({"site": site, "stream": stream, "seq": head.seq, "head_hash": head.hash.hex()})
        ids = self._ids(kind)
        record_id = (ids[-1] + 1) if ids else 1
        folder = self._dir(kind, record_id)
        folder.mkdir(parents=True)
        snap = {"kind": kind, "id": record_id, "site": self.log.site, "snapped_at_us": self.clock(), "cut": cut,
                "config": json.loads(spec.config()), "depends": depends}
        _write_atomically(folder / "snap.json", canonical_json(snap))
        return self.get(kind, record_id)

    def ready(self, kind: str, record_id: int | None = None, progress: Progress | None = None) -> Record:
        spec, record = self._kind(kind), self.get(kind, record_id)
        if record.ready:
            raise ConflictError(f"{record.label} is already ready; records never change (snap a new one)")
        folder = self._dir(kind, record.id)
        members = {"config.json": canonical_json(record.snap["config"])}
        dep_results, dep_events = {}, []
        for dep, dep_id in record.snap["depends"].items():
            dep_path = self.archive_path(dep, dep_id)
            dep_archive = open_archive(dep_path, public_key=self.log.key.public_key, unchecked=frozenset({EVENTS}))
            if EVENTS in dep_archive.manifest["files"]:
                dep_events.append((dep_path, dep_archive.manifest, dep_archive.tar.getmember(EVENTS)))
            try:
                dep_result_name = self._kind(dep).result_member
                for name in ("manifest.json", "signature.json", dep_result_name):
                    members[f"depends/{dep}/{name}"] = dep_archive.tar.extractfile(name).read()
                dep_results[dep] = members[f"depends/{dep}/{dep_result_name}"]
            finally:
                dep_archive.close()
        selections = [StreamSelection(c["stream"], 1, c["seq"]) for c in record.snap["cut"] if c["seq"] > 0]
        manifest = {"kind": kind, "id": record.id, "site": record.snap["site"], "cut": record.snap["cut"],
                    "snapped_at_us": record.snap["snapped_at_us"], "depends": record.snap["depends"],
                    "result": spec.result_member}
        events_key = self.log.key.public_key
        if spec.origin is not None:  # another site's events: checked against that site's key, named in the manifest
            events_key = self.log.public_key_of(spec.origin)
            if events_key is None:
                raise CommandError(f"this log holds no key of site {spec.origin}; it cannot cut its streams")
            manifest |= {"origin": spec.origin, "origin_key": events_key.hex()}
        # The cut is written straight into the archive, and compiled and verified from there, as an audit reads it.
        archive = ArchiveInPlace(folder / "archive.tar", manifest, [*members, spec.result_member], self.log.key)
        # The events of the records this depends on are checked against their manifests in a thread beside the
        # export and compile (hashing large blocks releases the GIL); their verdict comes first, as if checked before.
        # The export runs in a thread too, verified as it is written (growing.py); its error comes before the
        # verifier's, which would only find the file cut short.
        growing = Growing(archive.partial, archive.events_offset)
        with ThreadPoolExecutor(max_workers=2) as pool, heap_kept():
            export = pool.submit(self._export, growing, archive.events(), selections, spec.origin)
            dep_checks = [pool.submit(check_member, *dep) for dep in dep_events]
            try:
                try:
                    result, _ = compile_verified(spec.compile, Where(archive.partial, growing=growing),
                                                 members["config.json"], dep_results, public_key=events_key,
                                                 progress=progress)
                except BaseException:
                    growing.stop()
                    failure = export.exception()
                    if failure is not None and not isinstance(failure, Stopped):
                        raise failure  # the export broke off: the verifier only found its file cut short
                    raise
                finally:
                    for check in dep_checks:
                        check.result()
                exported = export.result()
                members[spec.result_member] = result
                archive.finish(exported.size, exported.sha256, members)
            except BaseException:
                growing.stop()
                export.exception()  # the writer is done with the file before it goes
                archive.discard()
                raise
        self._results[(kind, record.id)] = result  # written and signed from these bytes: mount need not reread them
        return self.get(kind, record.id)

    def _export(self, growing: Growing, out, selections, origin: str | None):
        try:
            return write_segment(self.log, growing.writer(out), selections, site=origin)
        finally:
            growing.done()

    def mount(self, kind: str, record_id: int | None = None) -> Record:
        record = self.get(kind, record_id)
        if not record.ready:
            raise CommandError(f"{record.label} is not ready; run `civitas {kind} ready {record.id}` first")
        self.result(kind, record.id)  # loads and checks it now, not at the first query
        (self._dir(kind, record.id) / "mounted").touch()
        return self.get(kind, record.id)

    def report(self, kind: str, record_id: int | None = None) -> Record:
        record = self.get(kind, record_id)
        if not record.mounted:
            raise CommandError(f"{record.label} is not mounted; run `civitas {kind} mount {record.id}` first")
        _write_atomically(self.root / kind / "reported", f"{record.id}\n".encode())
        return self.get(kind, record.id)

    def ureport(self, kind: str, record_id: int | None = None) -> Record:
        record = self.get(kind, record_id if record_id is not None else self.reported_id(kind))
        if not record.reported:
            raise CommandError(f"{record.label} is not the reported {kind}")
        (self.root / kind / "reported").unlink()
        return self.get(kind, record.id)

    def umount(self, kind: str, record_id: int | None = None) -> Record:
        record = self.get(kind, record_id)
        if record.reported:
            raise CommandError(f"{record.label} is reported; run `civitas {kind} ureport` before unmounting it")
        (self._dir(kind, record.id) / "mounted").unlink(missing_ok=True)
        self._results.pop((kind, record.id), None)
        return self.get(kind, record.id)

    def run(self, kind: str, through: str = "report", progress: Progress | None = None) -> list[Record]:
        """snap and every action after it through `through`; after a report, unmount the one reported before."""
        if through not in ACTIONS:
            raise CommandError(f"--etc takes one of {', '.join(ACTIONS)}")
        previous = self.reported_id(kind)
        done = [self.snap(kind)]
        record_id = done[0].id
        for action in ACTIONS[1 : ACTIONS.index(through) + 1]:
            step = self.ready(kind, record_id, progress) if action == "ready" else getattr(self, action)(kind, record_id)
            done.append(step)
        if through == "report" and previous is not None and previous != record_id:
            self.umount(kind, previous)
        return done

    # -- queries ---------------------------------------------------------------------------

    def result(self, kind: str, record_id: int) -> bytes:
        """The compiled result of a ready record, checked against its signed manifest."""
        key = (kind, record_id)
        if key not in self._results:
            archive = open_archive(self.archive_path(kind, record_id), public_key=self.log.key.public_key)
            try:
                self._results[key] = archive.read(archive.manifest["result"])
            finally:
                archive.close()
        return self._results[key]

    def archive_chunks(self, kind: str, record_id: int, size: int = 1 << 16) -> Iterator[bytes]:
        """A ready record's archive, as it is on disk, a piece at a time (for serving it to auditors)."""
        record = self.get(kind, record_id)
        if not record.ready:
            raise NotFoundError(f"{record.label} is not ready yet; it has no archive")
        return _chunks(self.archive_path(kind, record_id), size)  # checked now, read as it is served

    def reported_result(self, kind: str) -> bytes | None:
        record_id = self.reported_id(kind)
        return None if record_id is None else self.result(kind, record_id)


def _chunks(path: Path, size: int) -> Iterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(size):
            yield chunk


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)
