"""List rules' versions: issued strictly increasing with each change of a site's rules, signed with them; a receiver
takes only a later version, and says why it refused an older one or a second set under one version."""

from __future__ import annotations

import pytest

from civitas_kernel.list_rules import check_list_rules, rules_version, sign_list_rules
from civitas_kernel.signing import SiteKey

from civitas_sync.domain.rule_versions import CONFLICT, OLDER, SAME, TAKE, issue, judge
from civitas_sync.rules import held_rules, keep_rules, own_statement

A, B = {"pre_registration_min": 0, "range_prefix": None}, {"pre_registration_min": 2, "range_prefix": 3}


def test_a_version_is_kept_while_the_rules_stay_and_rises_when_they_change_even_with_a_clock_behind():
    first = issue(None, "a", 1_000)
    assert first == {"digest": "a", "version": 1_000} and issue(first, "a", 5_000) is first
    assert issue(first, "b", 5_000)["version"] == 5_000
    assert issue(first, "b", 10)["version"] == 1_001  # a clock gone back still gives a higher version


def test_a_receiver_takes_only_a_later_version():
    assert judge(None, (1, A)) == TAKE and judge((1, A), (2, B)) == TAKE
    assert judge((2, B), (1, A)) == OLDER and judge((2, B), (2, B)) == SAME and judge((2, B), (2, A)) == CONFLICT


def test_the_version_is_signed_with_the_rules_and_an_unversioned_statement_reads_as_zero():
    key = SiteKey.generate()
    statement = sign_list_rules(key, "town.example", A, 4)
    assert check_list_rules(statement, key.public_key) == A and rules_version(statement) == 4
    for altered in (statement | {"version": 5}, {k: v for k, v in statement.items() if k != "version"}):
        with pytest.raises(ValueError, match="forged"):
            check_list_rules(altered, key.public_key)
    for bad in (0, -1, True, "4"):
        with pytest.raises(ValueError, match="positive integer"):
            sign_list_rules(key, "town.example", A, bad)
        with pytest.raises(ValueError, match="positive integer"):
            check_list_rules(statement | {"version": bad}, key.public_key)


def test_a_site_signs_one_statement_per_set_of_rules_and_a_higher_version_for_the_next(tmp_path):
    key = SiteKey.generate()
    first = own_statement(tmp_path, "town.example", key, A, now_us=100)
    assert own_statement(tmp_path, "town.example", key, A, now_us=900) == first  # byte for byte the same statement
    second = own_statement(tmp_path, "town.example", key, B, now_us=50)
    assert second["version"] == 101 and second["rules"] == B


def test_keep_rules_refuses_an_older_version_and_a_second_set_under_one_version(tmp_path):
    key = SiteKey.generate()
    keys = {"town.example": key.public_key}
    v1, v2 = sign_list_rules(key, "town.example", A, 1), sign_list_rules(key, "town.example", B, 2)
    assert keep_rules(tmp_path, [v2], keys, "county.example") == []
    assert keep_rules(tmp_path, [v1], keys, "county.example") == [
        "town.example's list rules of version 1 are older than version 2 held here: refused, the later kept"]
    other = sign_list_rules(key, "town.example", A, 2)
    [conflict] = keep_rules(tmp_path, [other], keys, "county.example")
    assert conflict.startswith("town.example signed two different sets of list rules as version 2")
    assert held_rules(tmp_path)("town.example") == v2  # nothing refused was applied
    assert keep_rules(tmp_path, [v2], keys, "county.example") == []  # the same again: nothing to say
