"""governance.toml and modules.toml: defaults, fractions as strings, the most specific module, clear errors."""

from __future__ import annotations

from fractions import Fraction

import pytest

from civitas_deployer.domain.modules import SITE, parse_modules
from civitas_deployer.domain.rules import RulesError, parse_governance


def test_an_empty_governance_file_gives_the_defaults():
    rules = parse_governance("")
    assert (rules.voting.quorum, rules.voting.majority, rules.voting.strict) == (Fraction(0), Fraction(1, 2), True)
    c = rules.constitutional
    assert (c.quorum, c.majority, c.strict) == (Fraction(1, 10), Fraction(2, 3), False)
    assert rules.is_constitutional("governance.toml") and rules.is_constitutional("modules.toml")
    assert not rules.is_constitutional("pages/index.md")


def test_fractions_and_values_are_read_exactly():
    rules = parse_governance("""
        [voting]
        review_hours = 0
        voting_hours = 24
        quorum = "1/3"
        majority = "3/5"
        strict = false
        min_trust = 2
        inactive_after_days = 90
        [constitutional]
        paths = ["governance.toml", "code/**"]
        voting_hours = 720
        quorum = "1/4"
        majority = "3/4"
        strict = true
    """)
    assert rules.review_hours == 0 and rules.voting.voting_hours == 24
    assert rules.voting.quorum == Fraction(1, 3) and rules.voting.majority == Fraction(3, 5)
    assert rules.min_trust == 2 and rules.inactive_after_days == 90
    assert rules.constitutional.majority == Fraction(3, 4) and rules.constitutional.strict
    assert rules.is_constitutional("code/a/b.py") and not rules.is_constitutional("modules.toml")


@pytest.mark.parametrize("text, words", [
    ("[voting]\nquorum = 0.1", "a fraction written as a string"),
    ('[voting]\nmajority = "0.5"', "a fraction written as a string"),
    ('[voting]\nmajority = "3/2"', "from 0 to 1"),
    ('[voting]\nquorum = "1/0"', "denominator not 0"),
    ("[voting]\nquorom = \"1/2\"", "unknown key(s) quorom in [voting]"),
    ("[votes]\nquorum = \"1/2\"", "unknown table(s) votes"),
    ("[voting]\nstrict = \"yes\"", "true or false"),
    ("[voting]\nvoting_hours = 0", "a number of hours from 1"),
    ("[voting]\nmin_trust = -1", "a whole number"),
    ("[voting]\nmin_trust = true", "a whole number"),
    ("[constitutional]\npaths = []", "non-empty list"),
    ('[constitutional]\npaths = ["../etc/passwd"]', "relative to the repository"),
    ("[voting\nquorum = 1", "not valid TOML"),
])
def test_malformed_governance_says_what_is_wrong(text, words):
    with pytest.raises(RulesError) as error:
        parse_governance(text, where="governance.toml at abc123")
    assert words in str(error.value) and "governance.toml at abc123" in str(error.value)


MODULES = """
[modules.pages]
paths = ["pages/"]
[modules.rules]
paths = ["governance.toml", "modules.toml", "pages/rules/"]
[modules.polls]
paths = ["polls/"]
[modules.poll-texts]
paths = ["polls/*.md"]
"""


def test_the_longest_literal_prefix_wins_and_the_rest_is_site():
    modules = parse_modules(MODULES)
    assert modules.module_of("pages/about.md") == "pages"
    assert modules.module_of("pages/rules/vote.md") == "rules"
    assert modules.module_of("governance.toml") == "rules"
    assert modules.module_of("polls/mayor.md") == "poll-texts"  # same prefix as polls/, the longer pattern
    assert modules.module_of("polls/2024/mayor.md") == "polls"  # * stays within one segment
    assert modules.module_of("README.md") == SITE and modules.module_of("pagesx/a") == SITE
    assert modules.modules_of(["pages/a", "README", "pages/b"]) == ("pages", SITE)
    assert modules.names == ("pages", "poll-texts", "polls", "rules", SITE)


@pytest.mark.parametrize("text, words", [
    ('[modules.a]\npaths = ["x/"]\n[modules.b]\npaths = ["x/"]', "belongs to both a and b"),
    ('[modules.Pages]\npaths = ["x/"]', "lower-case"),
    ('[modules.none]\npaths = ["x/"]', "not all or none"),
    ("[modules.a]\npaths = []", "non-empty list"),
    ('[modules.a]\npaths = ["/abs"]', "relative"),
    ('[modules.a]\npath = ["x/"]', "takes only"),
    ('[module.a]\npaths = ["x/"]', "unknown table(s) module"),
    ("[modules.a", "not valid TOML"),
])
def test_malformed_modules_says_what_is_wrong(text, words):
    with pytest.raises(RulesError, match="modules.toml") as error:
        parse_modules(text)
    assert words in str(error.value)
