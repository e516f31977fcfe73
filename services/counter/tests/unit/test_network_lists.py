"""The rules of a list spanning the network: each voter once (the highest trust level; on a tie this site's own,
then the origin first in name order), and an origin's rules taken only as it signed them."""

from __future__ import annotations

import json

import pytest

from civitas_kernel.list_rules import sign_list_rules
from civitas_kernel.signing import SiteKey
from civitas_kernel.voter_list import HEADER

from civitas_counter.network_lists import list_config_of, merge_lists, origin_config


def listing(*rows: tuple[str, int, str]) -> bytes:
    lines = [f"{voter}\t{level}\t\t0\t\t{name}\t\t\t" for voter, level, name in rows]
    return ("\n".join([HEADER, *lines]) + "\n").encode()


def test_each_voter_is_listed_once_by_the_stated_rule_in_address_order():
    own = listing(("a@x", 1, "own"), ("c@x", 2, "own"))
    merged = merge_lists(own, {"b.example": listing(("a@x", 1, "b"), ("c@x", 3, "b"), ("d@x", 0, "b")),
                               "a.example": listing(("d@x", 0, "a"), ("c@x", 3, "a"))})
    rows = [line.split("\t") for line in merged.decode().splitlines()[1:]]
    assert [(r[0], r[1], r[5]) for r in rows] == [("a@x", "1", "own"), ("c@x", "3", "a"), ("d@x", "0", "a")]


def test_an_origins_rules_count_only_as_it_signed_them():
    town = SiteKey.generate()
    statement = sign_list_rules(town, "town.example", {"pre_registration_min": 2, "range_prefix": 3}, 7)
    config = origin_config("town.example", town.public_key, statement)
    assert list_config_of(config).range_prefix == 3 and json.loads(config)["version"] == 7
    forged = json.loads(config) | {"rules": {"pre_registration_min": 0, "range_prefix": None}}
    with pytest.raises(ValueError, match="forged"):
        list_config_of(json.dumps(forged).encode())
    for version in (8, None):  # the version is signed with the rules: neither raised nor taken off
        renumbered = {k: v for k, v in (json.loads(config) | {"version": version}).items() if v is not None}
        with pytest.raises(ValueError, match="forged"):
            list_config_of(json.dumps(renumbered).encode())
    with pytest.raises(ValueError, match="forged"):
        origin_config("town.example", SiteKey.generate().public_key, statement)
    unsigned = json.loads(origin_config("town.example", town.public_key, None))
    assert unsigned["signature"] is None and list_config_of(json.dumps(unsigned).encode()).range_prefix is None
