"""Records: snap -> ready -> mount -> report, immutable signed archives, and the audit that recompiles them."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from civitas_kernel.archive import ArchiveError, open_archive, write_archive
from civitas_kernel.audit import audit_archive
from civitas_kernel.canonical import canonical_json
from civitas_kernel.commands import CommandError, ConflictError, NotFoundError
from civitas_kernel.events import decode_body
from civitas_kernel.records import RecordKind, RecordStore
from civitas_kernel.testing.events import votes


def tally(events, config, depends) -> bytes:
    """A toy compiler: votes per candidate, and how many voters the 'roll' record it depends on lists."""
    counts: dict[str, int] = {}
    for event in events:
        candidate = decode_body(event.type, event.body).candidate
        counts[candidate] = counts.get(candidate, 0) + 1
    return canonical_json({"counts": counts, "config": json.loads(config), "roll": depends.get("roll", b"").decode()})


def roll(events, config, depends) -> bytes:
    return b"%d voters\n" % sum(1 for _ in events)


@pytest.fixture
def store(make_log, tmp_path):
    log = make_log()
    kinds = {
        "roll": RecordKind("roll", ("vote",), "roll.txt", roll, lambda: canonical_json({})),
        "tally": RecordKind("tally", ("vote", "poll"), "tally.json", tally, lambda: canonical_json({"rule": 1}), ("roll",)),
    }
    return RecordStore(tmp_path / "records", log, kinds, clock=lambda: 42)


def test_the_whole_lifecycle(store):
    store.log.append("vote", votes(3))
    roll_record = store.run("roll")[-1]
    assert (roll_record.id, roll_record.ready, roll_record.mounted, roll_record.reported) == (1, True, True, True)
    store.log.append("vote", votes(2))
    records = store.run("tally")
    assert [r.id for r in records] == [1, 1, 1, 1] and records[-1].reported
    result = json.loads(store.reported_result("tally"))
    assert result == {"counts": {"c@example.org": 5}, "config": {"rule": 1}, "roll": "3 voters\n"}
    assert records[0].snap["depends"] == {"roll": 1}
    assert records[0].snap["cut"][0]["seq"] == 5 and records[0].snap["cut"][1]["seq"] == 0


def test_a_record_compiles_exactly_its_cut(store):
    store.log.append("vote", votes(3))
    store.snap("roll")
    store.log.append("vote", votes(4))  # after the snap: not in the record
    store.ready("roll")
    assert store.result("roll", 1) == b"3 voters\n"


def test_a_new_report_unmounts_the_one_before_and_any_record_can_be_reported_again(store):
    store.log.append("vote", votes(1))
    store.run("roll")
    store.log.append("vote", votes(1))
    store.run("roll")
    assert [(r.id, r.mounted, r.reported) for r in store.status("roll")] == [(1, False, False), (2, True, True)]
    store.mount("roll", 1)
    store.report("roll", 1)
    assert store.reported_result("roll") == b"1 voters\n"
    assert [(r.id, r.mounted, r.reported) for r in store.status("roll")] == [(1, True, True), (2, True, False)]


def test_lifecycle_mistakes_are_refused_with_what_to_do(store):
    with pytest.raises(NotFoundError, match="no roll record yet"):
        store.ready("roll")
    with pytest.raises(CommandError, match="none is reported: run `civitas roll` first"):
        store.snap("tally")
    assert store.status("tally") == []
    store.log.append("vote", votes(1))
    store.snap("roll")
    with pytest.raises(CommandError, match="not ready"):
        store.mount("roll")
    with pytest.raises(CommandError, match="not mounted"):
        store.report("roll")
    store.ready("roll")
    with pytest.raises(ConflictError, match="already ready; records never change"):
        store.ready("roll")
    store.mount("roll")
    store.report("roll")
    with pytest.raises(CommandError, match="ureport"):
        store.umount("roll")
    with pytest.raises(NotFoundError, match="no roll record 7"):
        store.mount("roll", 7)
    with pytest.raises(CommandError, match="--etc takes one of"):
        store.run("roll", through="dance")


def test_recompiling_the_same_cut_gives_the_same_archive_bytes(store, tmp_path):
    store.log.append("vote", votes(3))
    store.run("roll")
    first = store.result("roll", 1)
    store.run("roll")
    assert store.result("roll", 2) == first


def test_audit_recompiles_from_the_archive_alone(store):
    store.log.append("vote", votes(4))
    store.run("roll")
    store.run("tally")
    report = audit_archive(store.archive_path("tally", 1), {"tally": tally, "roll": roll})
    assert report.matches and report.events == 4 and report.kind == "tally"
    assert audit_archive(store.archive_path("roll", 1), {"roll": roll}).matches


def _rewrite_member(path, name, transform):
    with tarfile.open(path) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
        for member, data in members:
            data = transform(data) if member.name == name else data
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))


def test_audit_refuses_a_tampered_archive(store):
    store.log.append("vote", votes(2))
    store.run("roll")
    path = store.archive_path("roll", 1)
    _rewrite_member(path, "roll.txt", lambda data: b"9 voters\n")
    with pytest.raises(ArchiveError, match="tampered: roll.txt does not match the hash in the manifest"):
        audit_archive(path, {"roll": roll})
    _rewrite_member(path, "manifest.json", lambda data: data.replace(b'"id":1', b'"id":2'))
    with pytest.raises(ArchiveError, match="forged: the manifest's signature does not verify"):
        audit_archive(path, {"roll": roll})


def test_audit_names_tampered_events_as_such_though_their_hash_is_checked_beside_the_recount(store):
    store.log.append("vote", votes(3))
    store.run("roll")
    path = store.archive_path("roll", 1)
    _rewrite_member(path, "events.seg", lambda data: data.replace(b"v1@example.org", b"v7@example.org"))
    with pytest.raises(ArchiveError, match="tampered: events.seg does not match the hash in the manifest"):
        audit_archive(path, {"roll": roll})
    _rewrite_member(path, "events.seg", lambda data: data + b"\0")  # whole events, then one byte more
    with pytest.raises(ArchiveError, match="tampered: events.seg does not match the hash in the manifest"):
        audit_archive(path, {"roll": roll})


def test_an_archive_member_that_is_a_link_is_refused(store):
    store.log.append("vote", votes(2))
    store.run("roll")
    path = store.archive_path("roll", 1)
    with tarfile.open(path) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
        for member, data in members:
            if member.name == "config.json":
                member.type, member.linkname, member.size, data = tarfile.SYMTYPE, "roll.txt", 0, b""
            tar.addfile(member, io.BytesIO(data))
    with pytest.raises(ArchiveError, match="tampered: config.json is not a plain file"):
        audit_archive(path, {"roll": roll})


def test_audit_reports_a_result_the_events_do_not_give(store, tmp_path):
    # A dishonest site signs a wrong result: the signature holds, the recount says what differs.
    store.log.append("vote", votes(2))
    store.run("roll")
    honest = open_archive(store.archive_path("roll", 1))
    manifest = {k: v for k, v in honest.manifest.items() if k not in ("files", "format", "public_key")}
    events = tmp_path / "events.seg"
    events.write_bytes(honest.read("events.seg"))
    members = {"config.json": honest.read("config.json"), "roll.txt": b"7 voters\n"}
    honest.close()
    forged = tmp_path / "dishonest.tar"
    write_archive(forged, manifest, members, events, store.log.key)
    report = audit_archive(forged, {"roll": roll})
    assert not report.matches
    assert report.difference == "line 1: the archive says '7 voters', the recount gives '2 voters'"


def test_audit_refuses_events_that_fail_their_chain_even_in_a_signed_archive(store, tmp_path):
    # The recount reads events unverified while another process verifies them: the verdict must still hold.
    store.log.append("vote", votes(3))
    store.run("roll")
    honest = open_archive(store.archive_path("roll", 1))
    manifest = {k: v for k, v in honest.manifest.items() if k not in ("files", "format", "public_key")}
    events = tmp_path / "events.seg"
    events.write_bytes(honest.read("events.seg").replace(b"v1@example.org", b"v7@example.org"))
    members = {"config.json": honest.read("config.json"), "roll.txt": honest.read("roll.txt")}
    honest.close()
    forged = tmp_path / "forged.tar"
    write_archive(forged, manifest, members, events, store.log.key)
    with pytest.raises(ArchiveError, match="vote at position 2: tampered"):
        audit_archive(forged, {"roll": roll})


def test_a_big_cut_is_verified_by_another_process_alongside_the_compile_with_the_same_verdicts(store, tmp_path,
                                                                                              monkeypatch):
    from civitas_kernel import recount

    monkeypatch.setattr(recount, "ALONGSIDE_FROM", 0)  # every cut is verified by a worker
    store.log.append("vote", votes(3))
    store.run("roll")
    assert store.result("roll", 1) == b"3 voters\n"
    assert audit_archive(store.archive_path("roll", 1), {"roll": roll}).matches
    honest = open_archive(store.archive_path("roll", 1))
    manifest = {k: v for k, v in honest.manifest.items() if k not in ("files", "format", "public_key")}
    events = tmp_path / "events.seg"
    events.write_bytes(honest.read("events.seg").replace(b"v1@example.org", b"v7@example.org"))
    members = {"config.json": honest.read("config.json"), "roll.txt": honest.read("roll.txt")}
    honest.close()
    forged = tmp_path / "forged.tar"
    write_archive(forged, manifest, members, events, store.log.key)
    with pytest.raises(ArchiveError, match="vote at position 2: tampered"):
        audit_archive(forged, {"roll": roll})


def test_an_archive_whose_cut_is_not_its_records_is_refused(store, tmp_path):
    store.log.append("vote", votes(3))
    store.run("roll")
    honest = open_archive(store.archive_path("roll", 1))
    manifest = {k: v for k, v in honest.manifest.items() if k not in ("files", "format", "public_key")}
    members = {"config.json": honest.read("config.json"), "roll.txt": honest.read("roll.txt")}
    events = tmp_path / "events.seg"
    events.write_bytes(honest.read("events.seg"))
    honest.close()
    shorter = {**manifest, "cut": [{**manifest["cut"][0], "seq": 2}]}
    write_archive(tmp_path / "shorter.tar", shorter, members, events, store.log.key)
    with pytest.raises(ArchiveError, match="the events cover"):
        audit_archive(tmp_path / "shorter.tar", {"roll": roll})
    moved = {**manifest, "cut": [{**manifest["cut"][0], "head_hash": "00" * 32}]}
    write_archive(tmp_path / "moved.tar", moved, members, events, store.log.key)
    with pytest.raises(ArchiveError, match="vote does not end where the record's cut says"):
        audit_archive(tmp_path / "moved.tar", {"roll": roll})


def test_an_archive_written_in_place_holds_the_bytes_write_archive_writes(store, tmp_path):
    store.log.append("vote", votes(3))
    store.run("roll")
    store.run("tally")
    for kind in ("roll", "tally"):
        path = store.archive_path(kind, 1)
        opened = open_archive(path)
        manifest = {k: v for k, v in opened.manifest.items() if k not in ("files", "format", "public_key")}
        members = {name: opened.read(name) for name in opened.manifest["files"] if name != "events.seg"}
        (tmp_path / "events.seg").write_bytes(opened.read("events.seg"))
        opened.close()
        write_archive(tmp_path / f"{kind}.tar", manifest, members, tmp_path / "events.seg", store.log.key)
        assert (tmp_path / f"{kind}.tar").read_bytes() == path.read_bytes()


def test_a_ready_that_fails_leaves_no_archive(store):
    def broken(events, config, depends):
        raise RuntimeError("the compiler broke")

    store.kinds["roll"] = RecordKind("roll", ("vote",), "roll.txt", broken, lambda: canonical_json({}))
    store.log.append("vote", votes(2))
    store.snap("roll")
    with pytest.raises(RuntimeError, match="the compiler broke"):
        store.ready("roll")
    assert not store.get("roll").ready and not list(store.archive_path("roll", 1).parent.glob("archive.tar*"))


def test_a_record_whose_dependency_has_tampered_events_is_not_made_ready(store):
    store.log.append("vote", votes(3))
    store.run("roll")
    _rewrite_member(store.archive_path("roll", 1), "events.seg",
                    lambda data: data.replace(b"v1@example.org", b"v7@example.org"))
    store.snap("tally")
    with pytest.raises(ArchiveError, match="tampered: events.seg does not match the hash in the manifest"):
        store.ready("tally")
    assert not store.get("tally").ready and not list(store.archive_path("tally", 1).parent.glob("archive.tar*"))


def test_an_export_that_breaks_off_is_the_error_raised_and_leaves_no_archive(store, monkeypatch):
    # The cut is verified as it is written: when the log fails mid-export, the verifier finds the file cut short,
    # but what the operator must hear is the log's error.
    from civitas_kernel import export_pages

    pages = export_pages._frame_pages

    def breaking(*args):
        for n, page in enumerate(pages(*args)):
            if n == 2:
                raise OSError("the disk went away")
            yield page

    monkeypatch.setattr(export_pages, "EXPORT_PAGE", 3)
    monkeypatch.setattr(export_pages, "SQLITE_PAGE", 3)
    monkeypatch.setattr(export_pages, "_frame_pages", breaking)
    store.log.append("vote", votes(20))
    store.snap("roll")
    with pytest.raises(OSError, match="the disk went away"):
        store.ready("roll")
    assert not store.get("roll").ready and not list(store.archive_path("roll", 1).parent.glob("archive.tar*"))
    monkeypatch.setattr(export_pages, "_frame_pages", pages)
    assert store.ready("roll").ready and store.result("roll", 1) == b"20 voters\n"
