"""A residence names its neighbourhood by the postal code written last; otherwise the registrant is barred."""

import pytest

from civitas_registry.domain.neighbourhood import NO_POSTAL_CODE, NO_RESIDENCE, neighbourhood_of


@pytest.mark.parametrize("residence, code", [
    ("12 Elm St, Springfield 90210", "90210"),
    ("12 Elm St, Springfield, 90210", "90210"),
    ("Elm St 12, Springfield 90210-1234", "90210-1234"),
    ("Hauptstrasse 5, 8001 Zürich", "8001"),  # the last token holding a digit, even before the town
    ("24 Sussex Dr, Ottawa K1A 0B1", "K1A 0B1"),  # a two-token code written last
    ("10 Downing St, London sw1a 2aa", "SW1A 2AA"),
    ("1 Main Street, Dublin D02X285", "D02X285"),
    ("  90210  ", "90210"),
])
def test_the_postal_code_written_last_names_the_neighbourhood(residence, code):
    hood = neighbourhood_of(residence)
    assert (hood.code, hood.bar, hood.barred) == (code, "", False)


@pytest.mark.parametrize("residence", [None, "", "   ", " , "])
def test_no_residence_bars_and_says_so(residence):
    hood = neighbourhood_of(residence)
    assert (hood.code, hood.bar, hood.barred) == ("", NO_RESIDENCE, True)
    assert hood.bar == "no residence given"


@pytest.mark.parametrize("residence", ["Springfield", "Elm Street, Springfield", "Flat #4/b", "---"])
def test_a_residence_without_a_postal_code_bars_and_says_what_to_do(residence):
    hood = neighbourhood_of(residence)
    assert (hood.code, hood.barred) == ("", True)
    assert hood.bar == NO_POSTAL_CODE == "residence names no postal code: write it last"
