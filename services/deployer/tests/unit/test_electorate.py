"""Who may vote: on the recorded list, unbarred, trust at least min_trust, and active when the rules ask it."""

from civitas_deployer.domain.electorate import DAY_US, electorate
from civitas_deployer.domain.rules import parse_governance

STANDINGS = [("a@x.org", 2, ""), ("b@x.org", 1, ""), ("c@x.org", 0, ""), ("d@x.org", 3, "barred by the registrar")]


def test_trust_and_bars_decide_who_is_in():
    assert electorate(STANDINGS, parse_governance("")) == {"a@x.org", "b@x.org"}
    assert electorate(STANDINGS, parse_governance("[voting]\nmin_trust = 2")) == {"a@x.org"}
    assert electorate(STANDINGS, parse_governance("[voting]\nmin_trust = 0")) == {"a@x.org", "b@x.org", "c@x.org"}


def test_inactive_voters_are_out_only_when_the_rules_ask():
    rules = parse_governance("[voting]\ninactive_after_days = 30")
    close = 100 * DAY_US
    active = {"a@x.org": close - 30 * DAY_US, "b@x.org": close - 30 * DAY_US - 1}
    assert electorate(STANDINGS, rules, last_active_us=active, closes_at_us=close) == {"a@x.org"}
    assert electorate(STANDINGS, parse_governance(""), last_active_us=active, closes_at_us=close) == {
        "a@x.org", "b@x.org"}
