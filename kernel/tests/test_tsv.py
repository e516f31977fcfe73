"""Records laid out from columns are the bytes that joining strings gives."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civitas_kernel import tsv
from civitas_kernel.voter_list import HEADER, ListColumns, VoterEntry, decode_voter_list, encode_voter_list

text = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\t\n"), max_size=12)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(text, st.integers(0, 10**12), st.sampled_from(["0", "1", "trust level 2 below"])),
                max_size=40))
def test_columns_lay_out_as_joined_strings(rows):
    names = [r[0] for r in rows]
    numbers = np.array([r[1] for r in rows], dtype=np.int64)
    choices = ("0", "1", "trust level 2 below")
    codes = np.array([choices.index(r[2]) for r in rows], dtype=np.int64)
    named = tsv.strings(names)
    columns = [named, tsv.numbers(numbers), tsv.words(codes, choices), named]
    laid_out = tsv.rows(columns, header=b"h\n")
    assert laid_out == ("h\n" + "".join(f"{a}\t{b}\t{c}\t{a}\n" for a, b, c in rows)).encode()
    assert tsv.plain_rows(columns, header=b"h\n") == laid_out  # numpy's layout where the kernel has no C


def test_a_field_outside_its_columns_data_is_refused():
    named = tsv.strings(["ab", "c"])
    outside = tsv.Spans(named.data, named.starts, named.ends + 5)
    with pytest.raises(ValueError, match="not inside the data"):
        tsv.rows([named, outside])


def test_no_rows_is_the_header_alone():
    assert tsv.rows([tsv.strings([]), tsv.numbers(np.zeros(0, dtype=np.int64))], header=b"h\n") == b"h\n"


def test_a_voter_list_in_columns_is_its_lines():
    entries = [VoterEntry("a@x.org", 12, "", 1, "90210", "Al"), VoterEntry("b@x.org", 0, "no residence given", 0),
               VoterEntry("zoë@x.org", 7, "", 0, "SW1A 1AA", note="ü")]
    columns = decode_voter_list(encode_voter_list(entries)).columns()
    data = columns.data
    assert [data[s:e].decode() for s, e in zip(*columns.voter)] == [e.voter for e in entries]
    assert columns.trust_level.tolist() == [12, 0, 7]
    assert [data[s:e].decode() for s, e in zip(*columns.bar)] == [e.bar for e in entries]
    assert [data[s:e].decode() for s, e in zip(*columns.neighbourhood)] == [e.neighbourhood for e in entries]
    assert len(ListColumns.of((HEADER + "\n").encode())) == 0


def test_a_damaged_voter_list_is_refused_when_read_in_columns():
    with pytest.raises(ValueError, match="columns"):
        ListColumns.of((HEADER + "\na@x.org\t1\n").encode())
    with pytest.raises(ValueError):
        ListColumns.of((HEADER + "\na@x.org\tx\t\t0\t\t\t\t\t\n").encode())  # a level that is no number


def test_a_list_is_known_by_its_header_line():
    assert len(decode_voter_list((HEADER + "\n").encode())) == 0
    assert len(decode_voter_list(HEADER.encode())) == 0  # an empty list written without its last newline
    for other in (b"", b"voter\ttrust_level\n", (HEADER + "\tmore\n").encode(), b"\n" + HEADER.encode()):
        with pytest.raises(ValueError, match="not a civitas voter list"):
            decode_voter_list(other)
