"""Every error is answered as problem details (RFC 9457), and none leaks the server's insides."""

from __future__ import annotations

import logging


def test_an_unexpected_error_answers_500_without_its_cause(client, expect_problem, caplog):
    with caplog.at_level(logging.ERROR, logger="civitas.problems"):
        answer = client.get("/demo/boom")

    problem = expect_problem(answer, 500, "unexpected")
    assert set(problem) == {"type", "title", "status", "detail", "incident"}
    for leak in ("secret-internal-detail", "hunter2", "RuntimeError", "Traceback", "/srv/civitas", ".py"):
        assert leak not in answer.text
    # The cause goes to the server's log, under the incident id the voter sees.
    logged = [r for r in caplog.records if problem["incident"] in r.getMessage()]
    assert logged and "secret-internal-detail" in str(logged[0].exc_info[1])


def test_a_validation_error_lists_each_field(client, expect_problem):
    answer = client.post("/demo/count", json={"count": "many"})

    problem = expect_problem(answer, 422, "invalid-request")
    assert problem["errors"] == [
        {"location": "body", "field": "count", "detail": problem["errors"][0]["detail"], "pointer": "#/count"}
    ]
    assert "count" in problem["detail"]
    assert "many" not in answer.text  # input values are not echoed: they may be codes


def test_a_missing_body_is_a_validation_error_too(client, expect_problem):
    problem = expect_problem(client.post("/demo/count"), 422, "invalid-request")

    assert problem["errors"][0]["location"] == "body"


def test_command_errors_keep_their_status_and_message(client, expect_problem):
    conflict = expect_problem(client.get("/demo/conflict"), 409)
    missing = expect_problem(client.get("/demo/missing"), 404)

    assert conflict["detail"] == "you voted in this poll already; unvote first"
    assert conflict["title"] == "Conflict" and conflict["type"] == "about:blank"
    assert missing["detail"] == "there is no poll 'x'"


def test_a_concurrent_change_answers_409(client, expect_problem):
    problem = expect_problem(client.get("/demo/stale"), 409, "concurrent-change")

    assert "retry" in problem["detail"]


def test_unknown_routes_and_methods_are_problems_too(client, expect_problem):
    expect_problem(client.get("/no/such/page"), 404)
    expect_problem(client.put("/demo/me"), 405)


def test_a_body_that_is_not_json_is_a_validation_error(client, expect_problem):
    answer = client.post("/demo/count", content=b'{"count": ', headers={"content-type": "application/json"})

    problem = expect_problem(answer, 422, "invalid-request")
    assert problem["errors"][0]["location"] == "body" and problem["errors"][0]["pointer"] == "#"
