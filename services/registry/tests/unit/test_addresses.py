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
