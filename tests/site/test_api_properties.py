"""Property-based: whatever schemathesis generates, inside the published OpenAPI or just outside it, the site never
answers 5xx; nor to the bodies an attacker sends whatever the schema says (huge integers, deep nesting, big bodies)."""

from __future__ import annotations

import json

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

HYPOTHESIS = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
HUGE = [2**63, 2**64, -(2**63) - 1, 10**30]


def test_no_input_makes_the_server_fail(make_site_app, operator_headers):
    _, app = make_site_app()
    with TestClient(app) as client:
        client.post("/api/polls", json={"name": "test-poll"}, headers=operator_headers)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):  # negative: values the schema forbids
            @HYPOTHESIS
            @given(case=operation.as_strategy(generation_mode=mode))
            def probe(case):
                for headers in (None, operator_headers):
                    response = case.call(headers=headers)
                    if response.status_code >= 500:
                        failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: "
                                        f"{response.text[:200]}")

            try:
                probe()
            except Unsatisfiable:  # an operation without parameters or body has nothing to get wrong
                assert mode is GenerationMode.NEGATIVE
    assert not failures, "\n".join(failures[:10])


def hostile_bodies(schema: dict) -> list[bytes]:
    """Bodies no schema check stops before parsing: deep nesting, oversized, and every integer field out of range."""
    bodies = [b"[" * 1000 + b"]" * 1000, b'{"a":' * 5000 + b"1" + b"}" * 5000, b'"' + b"x" * (1 << 20) + b'"']
    properties = schema.get("properties", {})
    for value in HUGE:
        document = {name: value if "integer" in json.dumps(spec) else "x" for name, spec in properties.items()}
        if any(v == value for v in document.values()):
            bodies.append(json.dumps(document).encode())
    return bodies


def test_hostile_bodies_get_a_problem_never_a_500(make_site_app, operator_headers, sign_in):
    _, app = make_site_app()
    with TestClient(app, raise_server_exceptions=False) as client:
        client.post("/api/polls", json={"name": "test-poll"}, headers=operator_headers)
        voter = {"Authorization": f"Bearer {sign_in(client, 'alice@example.org')}"}
        spec = client.get("/openapi.json").json()
        components = spec["components"]["schemas"]
        probed, failures = 0, []
        for path, methods in spec["paths"].items():
            for method, operation in methods.items():
                content = operation.get("requestBody", {}).get("content", {}).get("application/json")
                if content is None:
                    continue
                body_schema = content["schema"]
                body_schema = components[body_schema["$ref"].rsplit("/", 1)[1]] if "$ref" in body_schema else body_schema
                url = path.replace("{poll}", "test-poll").replace("{voter}", "alice@example.org")
                url = url.replace("{attribute}", "note").replace("{trustee}", "bob@example.org")
                url = url.replace("{doubted}", "bob@example.org")
                for body in hostile_bodies(body_schema):
                    for headers in (voter, operator_headers):
                        answer = client.request(method.upper(), url, content=body,
                                                headers=headers | {"Content-Type": "application/json"})
                        probed += 1
                        if answer.status_code >= 500 or answer.headers["content-type"] != "application/problem+json":
                            failures.append(f"{method.upper()} {url} {body[:40]!r} -> {answer.status_code}")
    assert probed > 50
    assert not failures, "\n".join(failures[:10])
