"""A stored count archive, made before the cut was read in columns: its events still compile to its bytes,
read every way a compiler may get them."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from civitas_counter import COMPILERS, compile_count
from civitas_kernel.archive import open_archive
from civitas_kernel.audit import audit_archive
from civitas_kernel.cut import Cut, open_window
from civitas_kernel.segment import read_envelopes_unchecked
from civitas_kernel.voter_list import decode_voter_list

GOLDEN = Path(__file__).parent / "golden" / "count.tar.gz"  # made by golden/make_goldens.py


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("golden") / "count.tar"
    path.write_bytes(gzip.decompress(GOLDEN.read_bytes()))
    return path


def test_the_audit_recounts_the_stored_count(archive):
    report = audit_archive(archive, COMPILERS)  # what `civitas audit` recompiles with
    assert report.matches, report.difference
    assert report.events == 1194


def test_the_count_compiled_from_envelopes_one_by_one_is_the_stored_one(archive):
    opened = open_archive(archive)
    try:
        envelopes = list(read_envelopes_unchecked(opened.open_events()))
        voter_list = decode_voter_list(opened.read("depends/list/result.tsv"))
        assert compile_count(envelopes, voter_list) == opened.read("result.tsv")
    finally:
        opened.close()


def test_the_count_compiled_from_the_segment_read_in_columns_is_the_stored_one(archive):
    # (unverified, as a compile alongside a verifying worker reads it; the audit above reads it while verifying)
    opened = open_archive(archive)
    try:
        member = opened.tar.getmember("events.seg")
        cut = Cut(lambda: open_window(archive, member.offset_data, member.size))
        voter_list = decode_voter_list(opened.read("depends/list/result.tsv"))
        assert compile_count(cut, voter_list) == opened.read("result.tsv")
    finally:
        opened.close()
