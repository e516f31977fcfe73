"""The register's decisions: what each command writes, and every mistake refused before anything is written."""

import re

import pytest

from civitas_kernel.commands import CommandError, ForbiddenError
from civitas_registry.domain import register as r
from civitas_registry.domain.register import RegisterState
from civitas_registry.domain.values import UnknownAttributeError, ValueRefusedError

A, B, C = "a@x.org", "b@x.org", "c@x.org"


def apply(state: RegisterState, events) -> RegisterState:
    for event in events:
        state.evolve(event.type, event_message(event), event.actor)
    return state


def event_message(event):
    from civitas_kernel.events import decode_body
    return decode_body(event.type, event.body)


def test_setting_an_attribute_writes_it_and_makes_it_the_registrants_own():
    state = RegisterState()
    events = r.decide_set(state, A, A, "name", "Alice Smith")
    assert [(e.type, e.actor) for e in events] == [(r.ATTRIBUTE_SET, A)]
    apply(state, events)
    assert state.attribute(A, "name") == "Alice Smith"
    assert A in state.self_registered and A in state.registrants


def test_unset_removes_and_an_unchanged_value_writes_nothing():
    state = apply(RegisterState(), r.decide_set(RegisterState(), A, A, "note", "hi"))
    assert r.decide_set(state, A, A, "note", "hi") == []
    apply(state, r.decide_unset(state, A, A, "note"))
    assert state.attribute(A, "note") is None
    assert r.decide_unset(state, A, A, "note") == []


@pytest.mark.parametrize("attribute, value, error, words", [
    ("shoe", "9", UnknownAttributeError, "name, residence, link, note"),
    ("name", "", ValueRefusedError, "unset name"),
    ("name", "x" * 101, ValueRefusedError, "at most 100"),
    ("residence", "x" * 201, ValueRefusedError, "at most 200"),
    ("note", "x" * 1001, ValueRefusedError, "at most 1000"),
    ("link", "https://example.org/" + "x" * 481, ValueRefusedError, "at most 500"),
    ("link", "example.org/me", ValueRefusedError, "https://"),
    ("link", "javascript:alert(1)", ValueRefusedError, "https://"),
    ("link", "ftp://example.org", ValueRefusedError, "https://"),
    ("name", "Bob\tSmith", ValueRefusedError, "one line"),
    ("note", "line one\nline two", ValueRefusedError, "one line"),
    ("name", "Bob\x00", ValueRefusedError, "one line"),
    ("name", "Bob\u2028Smith", ValueRefusedError, "one line"),
])
def test_bad_values_are_refused_with_what_to_do(attribute, value, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(")):
        r.decide_set(RegisterState(), A, A, attribute, value)


def test_limits_are_inclusive():
    state = RegisterState()
    assert r.decide_set(state, A, A, "name", "x" * 100)
    assert r.decide_set(state, A, A, "link", "http://example.org/" + "x" * 481)


def test_unsetting_an_unknown_attribute_is_refused():
    with pytest.raises(UnknownAttributeError):
        r.decide_unset(RegisterState(), A, A, "shoe")


def test_alter_pre_registers_until_the_registrant_sets_their_own():
    state = RegisterState()
    apply(state, r.decide_set(state, B, A, "name", "Alice"))
    assert A not in state.self_registered and state.attribute(A, "name") == "Alice"
    apply(state, r.decide_set(state, B, A, "residence", "1 Elm St 90210"))
    # Alice confirms the same name: written all the same, because it makes the attributes hers.
    confirm = r.decide_set(state, A, A, "name", "Alice")
    assert confirm
    apply(state, confirm)
    with pytest.raises(ForbiddenError, match="only they can change them"):
        r.decide_set(state, B, A, "name", "Mallory")
    with pytest.raises(ForbiddenError):
        r.decide_unset(state, B, A, "residence")


@pytest.mark.parametrize("level, minimum, allowed", [
    (None, 0, True), (None, 1, False), (0, 0, True), (0, 1, False), (2, 2, True), (3, 2, True), (1, 2, False)])
def test_alter_needs_the_sites_pre_registration_minimum(level, minimum, allowed):
    decide = lambda: r.decide_set(RegisterState(), B, A, "name", "Alice", level=level, minimum=minimum)  # noqa: E731
    if allowed:
        assert decide()
    else:
        with pytest.raises(ForbiddenError, match=f"trust level {minimum}"):
            decide()


def test_trust_is_one_edge_per_ordered_pair():
    state = RegisterState()
    events = r.decide_trust(state, A, B)
    assert [(e.type, e.actor) for e in events] == [(r.TRUST_EXTENDED, A)]
    apply(state, events)
    assert r.decide_trust(state, A, B) == []
    assert r.decide_trust(state, B, A)  # the other direction is another edge
    assert state.trusted_by(A) == [B]
    apply(state, r.decide_untrust(state, A, B))
    assert state.trusted_by(A) == [] and r.decide_untrust(state, A, B) == []


@pytest.mark.parametrize("decide", [r.decide_trust, r.decide_untrust, r.decide_undoubt,
                                    lambda s, a, b: r.decide_doubt(s, a, b, "")])
def test_nobody_trusts_or_doubts_themselves(decide):
    with pytest.raises(CommandError, match="yourself"):
        decide(RegisterState(), A, A)


def test_doubt_keeps_the_latest_reason():
    state = RegisterState()
    apply(state, r.decide_doubt(state, A, B, "never met"))
    assert r.decide_doubt(state, A, B, "never met") == []
    apply(state, r.decide_doubt(state, A, B, "moved away"))
    assert state.doubts_by(A) == [(B, "moved away")]
    apply(state, r.decide_undoubt(state, A, B))
    assert state.doubts_by(A) == [] and r.decide_undoubt(state, A, B) == []


def test_a_long_or_multi_line_reason_is_refused():
    with pytest.raises(ValueRefusedError, match="at most 500"):
        r.decide_doubt(RegisterState(), A, B, "x" * 501)
    with pytest.raises(ValueRefusedError, match="one line"):
        r.decide_doubt(RegisterState(), A, B, "a\nb")


def test_the_registrar_sets_the_number_of_primary_edges():
    state = RegisterState()
    events = r.decide_primary_trust(state, A, 3)
    assert [(e.type, e.actor) for e in events] == [(r.PRIMARY_EXTENDED, "registrar")]
    apply(state, events)
    assert state.primary == {A: 3}
    assert r.decide_primary_trust(state, A, 3) == []
    apply(state, r.decide_primary_trust(state, A, 1))
    assert state.primary == {A: 1}
    apply(state, r.decide_primary_untrust(state, A))
    assert state.primary == {} and r.decide_primary_untrust(state, A) == []


@pytest.mark.parametrize("edges", [0, -1, 1001])
def test_the_registrar_extends_one_to_a_thousand_edges(edges):
    with pytest.raises(CommandError, match="1 to 1000"):
        r.decide_primary_trust(RegisterState(), A, edges)


def test_everyone_named_by_an_event_is_a_registrant():
    state = RegisterState()
    apply(state, r.decide_trust(state, A, B))
    apply(state, r.decide_doubt(state, A, C, ""))
    apply(state, r.decide_primary_trust(state, "d@x.org", 1))
    assert sorted(state.registrants) == [A, B, C, "d@x.org"]


@pytest.mark.parametrize("first, lookalike", [("ape@example.org", "аре@example.org"),  # all Cyrillic: one script
                                              ("martin@example.org", "rnartin@example.org"),
                                              ("paypal@example.org", "paypa1@example.org")])
def test_a_new_registrant_who_looks_like_a_registered_voter_is_refused(first, lookalike):
    from civitas_registry.domain.register import LookalikeError

    state = apply(RegisterState(), r.decide_set(RegisterState(), first, first, "name", "First"))
    with pytest.raises(LookalikeError, match=f"looks like the address of registered voter {first}"):
        r.decide_set(state, lookalike, lookalike, "name", "Second")
    assert r.decide_set(state, first, first, "name", "Still me")  # the registered voter is unaffected
    assert r.decide_set(state, "carol@example.org", "carol@example.org", "name", "Carol")


@pytest.mark.parametrize("value, named", [("Alice\u202eecila", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
                                          ("Al\u200dice", "U+200D (ZERO WIDTH JOINER)"),
                                          ("\ufeffAlice", "U+FEFF"), ("A\u2066lice", "U+2066")])
def test_invisible_characters_are_refused_by_name(value, named):
    with pytest.raises(CommandError, match=re.escape(named)):
        r.decide_set(RegisterState(), "a@x.org", "a@x.org", "name", value)


def test_every_ascii_character_is_judged_by_its_unicode_category():
    """Plain ASCII text takes a short cut past the per-character check: it refuses exactly what the check would."""
    import unicodedata

    from civitas_registry.domain.values import check_text

    for code in range(128):
        refused = unicodedata.category(chr(code)) in ("Cc", "Zl", "Zp", "Cf", "Cs", "Co")
        try:
            check_text("name", f"Bob{chr(code)}Smith", 100)
        except ValueRefusedError:
            assert refused, code
        else:
            assert not refused, code
