"""`civitas audit` as an auditor relies on it: a forged archive re-signed with another key is never "matches", an
archive nobody vouches for says so with an exit status of its own, and a tar that reads two ways is refused."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from civitas.cli import main
from civitas.exit_status import ExitStatus
from civitas_polls.domain.sim import simulate


def count_archive(home: Path, monkeypatch, capsys, *extra_lines: str) -> Path:
    """A site at `home` named localhost, the simulated 3:3 tie (plus `extra_lines`), compiled to a count archive."""
    monkeypatch.setenv("CIVITAS_HOME", str(home))
    assert main(["poll", "create", "test-poll"]) == ExitStatus.SUCCESS
    lines = [line for line in simulate("ab", "1-3") if not line.startswith("#")] + list(extra_lines)
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["voter"]) == ExitStatus.SUCCESS
    assert main(["list"]) == ExitStatus.SUCCESS and main(["count"]) == ExitStatus.SUCCESS
    capsys.readouterr()
    return home / "records" / "count" / "000001" / "archive.tar"


@pytest.fixture
def sites(tmp_path, monkeypatch, capsys):
    """The genuine site's count (3:3), and a forger's complete count of the same site name (4:2), with its own key."""
    monkeypatch.setenv("CIVITAS_SITE", "localhost")
    monkeypatch.chdir(tmp_path)
    forged = count_archive(tmp_path / "forger", monkeypatch, capsys, "b3@sim.example.org test-poll vote sim-a@sim.example.org")
    genuine = count_archive(tmp_path / "genuine", monkeypatch, capsys)
    return tmp_path, genuine, forged


def audit(capsys, *args: str) -> tuple[ExitStatus, str, str]:
    status = main(["audit", *map(str, args)])
    out, err = capsys.readouterr()
    return status, out, err


def public_key(home: Path, capsys, monkeypatch) -> str:
    monkeypatch.setenv("CIVITAS_HOME", str(home))
    main(["site", "--json"])
    return json.loads(capsys.readouterr().out)["public_key"]


def test_a_forged_count_re_signed_with_another_key_is_refused_by_the_site_that_knows_its_key(sites, capsys):
    _, genuine, forged = sites  # CIVITAS_HOME is the genuine site's
    status, out, _ = audit(capsys, genuine)
    assert status == ExitStatus.SUCCESS and "matches byte for byte" in out
    assert "which is this civitas's own key for localhost" in out.splitlines()[0]
    status, out, err = audit(capsys, forged)
    assert status == ExitStatus.INTEGRITY and "matches" not in out
    assert "it is not that site's record" in err


def test_an_auditor_without_a_key_gets_self_consistent_and_exit_4_never_matches(sites, capsys, monkeypatch):
    tmp_path, genuine, forged = sites
    monkeypatch.setenv("CIVITAS_HOME", str(tmp_path / "auditor"))  # a laptop that holds no site
    for archive in (genuine, forged):
        status, out, _ = audit(capsys, archive)
        assert status == ExitStatus.UNCHECKED, out
        first, *rest = out.splitlines()
        assert first.startswith("archive.tar: signed for site localhost with key ")  # who says they signed it
        assert "self-consistent, signer not checked" in out and "matches byte for byte" not in out
    status, out, _ = audit(capsys, forged, "--json")
    report = json.loads(out[out.index("{"):])
    assert status == ExitStatus.UNCHECKED and report["verdict"] == "self-consistent, signer not checked"
    assert report["signer_checked"] is False and not (tmp_path / "auditor" / "site-key.pem").exists()


def test_the_key_an_auditor_gives_or_pins_decides(sites, capsys, monkeypatch):
    tmp_path, genuine, forged = sites
    genuine_key = public_key(tmp_path / "genuine", capsys, monkeypatch)
    monkeypatch.setenv("CIVITAS_HOME", str(tmp_path / "auditor"))
    assert audit(capsys, genuine, "--key", genuine_key)[0] == ExitStatus.SUCCESS
    status, _, err = audit(capsys, forged, "--key", genuine_key)
    assert status == ExitStatus.INTEGRITY and f"not {genuine_key}" in err
    key_file = tmp_path / "genuine" / "site-key.pem"
    assert audit(capsys, genuine, "--site-key-file", key_file)[0] == ExitStatus.SUCCESS
    assert audit(capsys, forged, "--site-key-file", key_file)[0] == ExitStatus.INTEGRITY

    assert main(["known-sites", "add", "localhost", genuine_key]) == ExitStatus.SUCCESS
    capsys.readouterr()
    status, out, _ = audit(capsys, genuine)
    assert status == ExitStatus.SUCCESS and "the key pinned for localhost" in out
    assert audit(capsys, forged)[0] == ExitStatus.INTEGRITY
    other = "ab" * 32
    assert main(["known-sites", "add", "localhost", other]) == ExitStatus.ERROR  # a pin is never silently replaced
    assert "pinned to another key" in capsys.readouterr().err


def rewrite(source: Path, target: Path, change) -> Path:
    """Copy an archive member by member, letting `change(tar, member, data)` write what it likes instead."""
    with tarfile.open(source) as src, tarfile.open(target, "w", format=tarfile.USTAR_FORMAT) as out:
        for member in src.getmembers():
            change(out, member, src.extractfile(member).read())
    return target


def add(out: tarfile.TarFile, name: str, data: bytes, like: tarfile.TarInfo) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), like.mode
    out.addfile(info, io.BytesIO(data))


def test_a_forged_result_placed_before_the_genuine_one_is_refused(sites, capsys):
    tmp_path, genuine, _ = sites

    def forge_first(out, member, data):
        if member.name == "result.tsv":  # tar tools show this one; a reader taking the last saw the genuine
            add(out, "result.tsv", data.replace(b"sim-a@sim.example.org\t3", b"sim-a@sim.example.org\t4"), member)
        add(out, member.name, data, member)

    status, out, err = audit(capsys, rewrite(genuine, tmp_path / "doubled.tar", forge_first))
    assert status == ExitStatus.INTEGRITY and "holds result.tsv twice" in err and "matches" not in out


@pytest.mark.parametrize("change, message", [
    (lambda out, m, data: None if m.name == "config.json" else add(out, m.name, data, m),
     "config.json missing, which the manifest lists"),
    (lambda out, m, data: (add(out, m.name, data, m), m.name == "result.tsv" and add(out, "note.txt", b"hi", m)),
     "note.txt in the archive, which the manifest does not list"),
])
def test_missing_and_extra_members_are_refused_by_name(sites, capsys, change, message):
    tmp_path, genuine, _ = sites
    status, _, err = audit(capsys, rewrite(genuine, tmp_path / "changed.tar", change))
    assert status == ExitStatus.INTEGRITY and message in err


def test_a_link_in_place_of_a_member_is_refused(sites, capsys):
    tmp_path, genuine, _ = sites

    def link_result(out, member, data):
        if member.name != "result.tsv":
            return add(out, member.name, data, member)
        link = tarfile.TarInfo("result.tsv")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        out.addfile(link)

    status, _, err = audit(capsys, rewrite(genuine, tmp_path / "linked.tar", link_result))
    assert status == ExitStatus.INTEGRITY and "result.tsv is not a plain file" in err
