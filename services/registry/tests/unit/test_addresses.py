"""Voters are named by their email address, normalised the way the gateway's sign-in does it."""

import pytest

from civitas_kernel.commands import CommandError
from civitas_registry import normalise_address
from civitas_gateway.auth.addresses import normalise_email


@pytest.mark.parametrize("given, expected", [
    ("alice@example.org", "alice@example.org"),
    ("  Alice@Example.ORG ", "alice@example.org"),
    ("ALICE.SMITH+civitas@EXAMPLE.org", "alice.smith+civitas@example.org"),
])
def test_addresses_are_lower_cased_whole(given, expected):
    assert normalise_address(given) == expected


@pytest.mark.parametrize("given", ["Alice@Example.ORG", "bob.o'neil@mail.example.co.uk", "Zoë@exämple.org"])
def test_the_register_and_the_sign_in_name_a_voter_the_same_way(given):
    assert normalise_address(given) == normalise_email(given)


@pytest.mark.parametrize("given", ["", "   ", "alice", "alice@", "@example.org", "a b@example.org",
                                   "alice@@example.org", "alice@example", "x" * 300 + "@example.org"])
def test_malformed_addresses_are_refused_with_an_example(given):
    with pytest.raises(CommandError, match="alice@example.org"):
        normalise_address(given)


@pytest.mark.parametrize("given, scripts", [
    ("bоb@example.org", "Latin and Cyrillic"),  # a Cyrillic о
    ("bob@exаmple.org", "Latin and Cyrillic"),  # an IDN lookalike of example.org
    ("bob@xn--exmple-4nf.org", "Latin and Cyrillic"),  # the same, written as IDNA spells it
    ("αlice@example.org", "Greek and Latin"),
])
def test_an_address_mixing_scripts_is_refused_saying_why(given, scripts):
    with pytest.raises(CommandError, match=f"mixes {scripts} letters"):
        normalise_address(given)
    with pytest.raises(ValueError, match="could pass for another address"):
        normalise_email(given)


@pytest.mark.parametrize("given, expected", [
    ("ｂob@example.org", "bob@example.org"),  # full-width letters are the letters they stand for
    ("bob@ＥＸＡＭＰＬＥ.org", "bob@example.org"),
    ("иван@пример.рф", "иван@пример.рф"),  # one script in each part is anyone's own address
    ("ivan@пример.рф", "ivan@пример.рф"),
    ("tanaka山田@example.jp", "tanaka山田@example.jp"),  # Latin with Han, as Japanese writes
])
def test_addresses_are_folded_to_one_form(given, expected):
    assert normalise_address(given) == expected == normalise_email(given)


def _answer(check, text):
    try:
        return check(text)
    except CommandError as e:
        return f"refused: {e}"


_TRICKY = ["a.b@example.org", ".a@example.org", "a.@example.org", "a..b@example.org", "A_B-c+d@Ex-Ample.ORG",
           "x" * 64 + "@example.org", "x" * 65 + "@example.org", "a@" + "d" * 63 + ".org", "a@" + "d" * 64 + ".org",
           "a@" + ".".join(["abcdefghi"] * 25) + ".org", "a@-example.org", "a@example-.org", "a@example..org",
           "a@.example.org", "a@example.org.", "a@localhost", "a@x.test", "a@x.local", "a@x.invalid", "a@x.onion",
           "a@1.2.3.4", "a@example.123", "a@xn--exmple-4nf.org", "a@xn--bcher-kva.example", "a@XN--BCHER-KVA.example",
           "postmaster@example.org", "Postmaster@Example.org", "a@ex_ample.org", "a@e.x", "a-@example.org",
           "_@example.org", "+@example.org", "a@example.o-rg", "a@0example.org", "a@example.org-"]


@pytest.mark.parametrize("given", _TRICKY)
def test_the_short_cut_for_plain_addresses_answers_as_the_full_check(given):
    from civitas_kernel.addresses import _validated

    normalise_address.cache_clear()
    assert _answer(normalise_address, given) == _answer(_validated, given)


def test_the_short_cut_answers_as_the_full_check_over_many_generated_addresses():
    import random

    from civitas_kernel.addresses import _validated

    rng = random.Random(20)
    pieces = ["a", "Z", "0", "9", ".", "-", "_", "+", "xn--", "b" * 30, "org", "ü", "é", "'"]
    for _ in range(3000):
        local = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))
        labels = ("".join(rng.choice(pieces) for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(1, 4)))
        domain = ".".join(labels)
        given = f"{local}@{domain}"
        normalise_address.cache_clear()
        assert _answer(normalise_address, given) == _answer(_validated, given), given
