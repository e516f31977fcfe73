"""Input an attacker sends: bodies too large or too deep, integers out of range. Each gets a 4xx problem, read no
further than its limit, and never a 500."""

from __future__ import annotations

import socket

import pytest
from fastapi.testclient import TestClient

from civitas_kernel.testing.serving import ServerThread

MAX_TIME_US = 253_402_300_799_000_000  # the end of 9999


@pytest.fixture
def api(make_site_app, operator_headers):
    _, app = make_site_app()
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/api/polls", json={"name": "test-poll"}, headers=operator_headers).status_code == 201
        yield client


@pytest.fixture
def alice(api, sign_in):
    return {"Authorization": f"Bearer {sign_in(api, 'alice@example.org')}"}


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("depth, status, kind", [(1_000, 400, "json-too-deep"), (20_000, 400, "json-too-deep"),
                                                 (100_000, 413, "body-too-large")])  # 200 kB: over the size limit
def test_deeply_nested_json_is_refused_before_it_is_parsed(api, alice, expect_problem, depth, status, kind):
    json_headers = {"Content-Type": "application/json"}
    for method, path, headers in [("PUT", "/api/polls/test-poll/vote", alice), ("POST", "/api/auth/code", {}),
                                  ("POST", "/api/shell", alice), ("PUT", "/api/doubt/bob@example.org", alice)]:
        body = b'{"candidate": ' + nested(depth) + b"}" if "vote" in path else nested(depth)
        answer = api.request(method, path, content=body, headers=headers | json_headers)
        expect_problem(answer, status, kind)


def test_brackets_inside_strings_are_not_nesting(api, alice):
    answer = api.put("/api/register/alice@example.org/attributes/note", json={"value": "[" * 500}, headers=alice)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("field, value", [("opens_at_us", 2**63), ("closes_at_us", 2**64), ("opens_at_us", -1),
                                          ("closes_at_us", MAX_TIME_US + 1), ("min_trust", 2**64)])
def test_poll_integers_out_of_range_are_refused(api, operator_headers, expect_problem, field, value):
    created = api.post("/api/polls", json={"name": "other", field: value}, headers=operator_headers)
    problem = expect_problem(created, 422, "invalid-request")
    assert problem["errors"][0]["field"] == field
    changed = api.patch("/api/polls/test-poll", json={field: value}, headers=operator_headers)
    expect_problem(changed, 422, "invalid-request")


def test_a_poll_at_the_far_edge_of_time_still_answers_votes(api, alice, operator_headers, expect_problem):
    assert api.patch("/api/polls/test-poll", json={"opens_at_us": MAX_TIME_US - 1, "closes_at_us": MAX_TIME_US},
                     headers=operator_headers).status_code == 200
    refused = api.put("/api/polls/test-poll/vote", json={"candidate": "bob@example.org"}, headers=alice)
    assert "voting opens at 9999-12-31" in expect_problem(refused, 400)["detail"]


def test_a_body_over_the_limit_is_refused(api, alice, expect_problem):
    big = {"line": "register set note " + "x" * (70 * 1024)}
    problem = expect_problem(api.post("/api/shell", json=big, headers=alice), 413, "body-too-large")
    assert "65536 bytes" in problem["detail"]


def raw_exchange(base: str, request: bytes, then: bytes = b"") -> bytes:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        if then:
            try:
                sock.sendall(then)
            except OSError:
                pass
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return answer


def test_a_200_mb_body_is_refused_unread(make_site_app):
    _, app = make_site_app()
    with ServerThread().serving(app) as base:
        head = (b"POST /api/auth/code HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 200000000\r\n\r\n")
        answer = raw_exchange(base, head, b"{" + b" " * 1000)  # the rest never comes; no need to wait for it
    assert answer.startswith(b"HTTP/1.1 413") and b"body-too-large" in answer


def test_a_chunked_body_past_the_limit_is_cut_off(make_site_app):
    _, app = make_site_app()
    with ServerThread().serving(app) as base:
        head = b"POST /api/auth/code HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        chunk = b"%x\r\n%s\r\n" % (32 * 1024, b" " * 32 * 1024)
        answer = raw_exchange(base, head + chunk * 3)
    assert answer.startswith(b"HTTP/1.1 413")
