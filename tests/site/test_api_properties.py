"""Property-based: whatever schemathesis generates that the published OpenAPI allows, the site never answers 5xx."""

from __future__ import annotations

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

HYPOTHESIS = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)


def test_no_input_makes_the_server_fail(make_site_app, operator_headers):
    _, app = make_site_app()
    with TestClient(app) as client:
        client.post("/api/polls", json={"name": "test-poll"}, headers=operator_headers)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20

    for operation in operations:
        @HYPOTHESIS
        @given(case=operation.as_strategy())
        def probe(case):
            for headers in (None, operator_headers):
                response = case.call(headers=headers)
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}")

        probe()
    assert not failures, "\n".join(failures[:10])
