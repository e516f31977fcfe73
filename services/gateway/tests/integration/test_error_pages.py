"""Pages answer pages: every problem, to a client that prefers HTML, is a page saying what went wrong and what
to do, with the same status and headers; API clients keep problem+json."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from civitas_kernel.sql.engine import create_engine

from civitas_gateway.auth import AuthSettings
from civitas_gateway.error_pages import install_error_pages
from civitas_gateway.mail import MailError

from ..conftest import demo_app

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


class DownRelay:
    def send(self, message) -> None:
        raise MailError("the relay is down")


@pytest.fixture
def make_pages_client(tmp_path, clock):
    def make(**overrides) -> TestClient:
        settings = AuthSettings(**{"HOME": tmp_path, "SMTP_HOST": "127.0.0.1"} | overrides)
        app = demo_app(settings, create_engine(f"sqlite:///{tmp_path / 'gateway.sqlite'}"), clock, mailer=DownRelay())
        install_error_pages(app)
        return TestClient(app, raise_server_exceptions=False)

    return make


@pytest.fixture
def client(make_pages_client):
    return make_pages_client()


def page_of(response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "application/problem+json" not in response.text and response.text.lstrip().startswith("<!doctype html>")
    return response.text


def test_a_relay_that_is_down_is_a_page_saying_to_try_again(client):
    response = client.post("/api/auth/code", json={"email": "alice@example.org"}, headers=BROWSER)

    page = page_of(response, 503)
    assert "We could not send the mail" in page  # the title
    assert "try again in a few minutes" in page  # the detail
    assert "Try again in 60 seconds; nothing was changed." in page  # what to do, from Retry-After
    assert response.headers["retry-after"] == "60"


def test_api_clients_keep_problem_details(client, expect_problem):
    accepts = ({}, {"Accept": "application/json"}, {"Accept": "application/problem+json"}, {"Accept": "*/*"})
    for number, accept in enumerate(accepts):  # an address each: a client may ask few codes for one address
        response = client.post("/api/auth/code", json={"email": f"alice{number}@example.org"}, headers=accept)
        assert expect_problem(response, 503, "mail-unavailable")["detail"]


def test_signing_in_first_is_a_page_with_a_sign_in_link(client):
    page = page_of(client.get("/demo/me", headers=BROWSER), 401)
    assert "Sign in first" in page and '<a href="/signin">Sign in</a>' in page


def test_invalid_fields_are_named_on_the_page(client):
    page = page_of(client.post("/demo/count", json={"count": "many"}, headers=BROWSER), 422)
    assert "Some fields are not right" in page and "<strong>count</strong>" in page
    assert "Go back and correct the fields named (count)" in page


def test_a_missing_page_a_conflict_and_a_stale_state_are_pages(client):
    assert "Check the address" in page_of(client.get("/no/such/page", headers=BROWSER), 404)
    assert "there is no poll &#39;x&#39;" in page_of(client.get("/demo/missing", headers=BROWSER), 404)
    assert "unvote first" in page_of(client.get("/demo/conflict", headers=BROWSER), 409)
    assert "Reload the page" in page_of(client.get("/demo/stale", headers=BROWSER), 409)


def test_our_own_failure_is_a_page_with_the_incident_id_and_no_internals(client):
    response = client.get("/demo/boom", headers=BROWSER)
    page = page_of(response, 500)
    assert "Something went wrong on our side" in page and "Incident " in page
    assert "hunter2" not in page and "/srv/civitas" not in page
    assert client.get("/demo/boom").headers["content-type"] == "application/problem+json"


def test_the_rate_limit_middleware_answers_browsers_with_a_page(make_pages_client):
    client = make_pages_client(RATE_ADDRESS="2/1min")
    client.get("/demo/public"), client.get("/demo/public")
    response = client.get("/demo/public", headers=BROWSER)
    page = page_of(response, 429)
    assert "Too many requests" in page and "Wait, and try again in" in page
    assert int(response.headers["retry-after"]) >= 1


def test_the_way_back_leads_only_to_this_site(client):
    same = client.get("/demo/me", headers=BROWSER | {"Referer": "http://testserver/polls/x?y=1"})
    assert '<a href="/polls/x?y=1">Back to the page you came from</a>' in page_of(same, 401)
    elsewhere = client.get("/demo/me", headers=BROWSER | {"Referer": "https://evil.example/phish"})
    assert "evil.example" not in page_of(elsewhere, 401) and "Back to the page" not in elsewhere.text
