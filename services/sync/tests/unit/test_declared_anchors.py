"""A link's anchor as sync.toml declares it: read back as written, and what is wrong said plainly."""

from __future__ import annotations

import tomllib

import pytest

from civitas_sync.domain.anchors import DeclaredAnchor, anchor_lines, declared_anchor

ANCHOR = DeclaredAnchor("town.example", "registration", 120, bytes(range(32)), b"\x0a\x03abc\x12\x40" + bytes(64))


def test_the_printed_lines_read_back_as_the_same_anchor():
    text = "[[peer]]\nsite = \"town.example\"\n" + "\n".join(anchor_lines(ANCHOR)) + "\n"
    (entry,) = tomllib.loads(text)["peer"]
    assert [declared_anchor(a) for a in entry["anchor"]] == [ANCHOR]


@pytest.mark.parametrize(("change", "said"), [
    ({"position": 0}, "position must be a whole number from 1"),
    ({"position": "120"}, "position must be a whole number"),
    ({"hash": "abc"}, "hash must be 64 hex digits"),
    ({"checkpoint": "not base64!"}, "checkpoint must be the origin's signed checkpoint in base64"),
    ({"checkpoint": ""}, "checkpoint must be"),
    ({"stream": "Registration"}, "is not a stream name"),
])
def test_a_malformed_declaration_says_what_to_fix(change, said):
    entry = tomllib.loads("\n".join(anchor_lines(ANCHOR)[1:])) | change
    with pytest.raises(ValueError, match=said):
        declared_anchor(entry)


def test_a_declaration_lacking_a_field_names_it():
    entry = tomllib.loads("\n".join(anchor_lines(ANCHOR)[1:]))
    del entry["checkpoint"]
    with pytest.raises(ValueError, match="lacks 'checkpoint'.*civitas sync anchor PEER STREAM"):
        declared_anchor(entry)
