"""Choosing a page or a problem document from the Accept header."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civitas_gateway.error_pages import wants_html

BROWSERS = [
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",  # Chromium, Firefox
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",  # Safari
    "text/html",
    "TEXT/HTML; charset=utf-8",
    "text/*, application/json;q=0.5",
]
API_CLIENTS = [
    "",  # no header at all
    "*/*",  # curl, httpx, requests
    "application/json",
    "application/problem+json",
    "application/json, text/html",  # a tie: the API's default wins
    "text/html;q=0.5, application/json",
    "text/html;q=0, */*",
    "text/html;q=nonsense, application/json",
]


@pytest.mark.parametrize("accept", BROWSERS)
def test_browsers_get_pages(accept):
    assert wants_html(accept)


@pytest.mark.parametrize("accept", API_CLIENTS)
def test_api_clients_get_problem_documents(accept):
    assert not wants_html(accept)


QUALITY = st.sampled_from(["", ";q=0", ";q=0.3", ";q=0.5", ";q=0.9", ";q=1"])
RANGE = st.tuples(st.sampled_from(["text/html", "application/json", "application/problem+json", "*/*", "text/*",
                                   "image/png", "application/*"]), QUALITY)


@given(st.lists(RANGE, max_size=6), st.sampled_from(["application/json", "application/problem+json"]))
def test_naming_json_first_at_full_quality_always_gets_json(ranges, json_type):
    accept = ", ".join([json_type, *(media + q for media, q in ranges)])
    assert not wants_html(accept)


@given(st.lists(RANGE, max_size=6))
def test_the_order_of_the_ranges_does_not_matter(ranges):
    parts = [media + q for media, q in ranges]
    assert wants_html(", ".join(parts)) == wants_html(", ".join(reversed(parts)))
