"""Property-based: whatever the drafts service's published OpenAPI allows, and whatever SQL is put together from the
query language's own words, the service answers with a result or a problem document, never a 5xx."""

from __future__ import annotations

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civitas_kernel.kafka import KafkaSettings
from civitas_kernel.testing.ports import free_port

from civitas_drafts.http import create_drafts_app
from civitas_drafts.settings import DraftsSettings

HYPOTHESIS = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
ALICE = "alice@example.org"
WORDS = ["SELECT", "*", "FROM", "WHERE", "WITH", "RECURSIVE", "AS", "(", ")", ",", ";", "UNION", "ALL", "JOIN", "ON",
         "=", "||", "+", "1", "'x'", "x'ff'", "NULL", "posts", "scores", "groups", "paragraphs", "sqlite_master",
         "pragma_table_info('posts')", "json_each('[1,2]')", "printf('%5000d', 1)", "zeroblob(1000001)",
         "group_concat(text)", "count(*)", "load_extension('x')", "ORDER BY", "LIMIT", "-1", "9e999", "CAST", "TEXT",
         "ATTACH", "INSERT", "INTO", "VALUES", "DELETE", "PRAGMA", "hash", "id", "length", "upper", "replace"]


def test_no_input_makes_the_service_fail(tmp_path, server_thread):
    log_url = f"sqlite:///{tmp_path / 'drafts.sqlite'}"
    settings_ = DraftsSettings(SERVICE="drafts", HOME=tmp_path, SITE="localhost", LOG_URL=log_url, PUBLISH_WAIT_S=0,
                               QUERY_DEADLINE_S=0.2)
    app = create_drafts_app(settings_, kafka=KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}"))
    failures: list[str] = []
    with server_thread().serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        made = client.post("/commands", json={"commands": [
            {"voter": ALICE, "service": "drafts", "args": ["group", "create", "Hall", "--others-weight", "1"]}]})
        gid = made.json()["results"][0]["data"]["id"]
        client.post("/commands", json={"commands": [
            {"voter": ALICE, "service": "drafts", "args": ["post", gid, "One.", "Two."]}]})

        schema = schemathesis.openapi.from_url(url + "/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        operations = [o for o in operations if o.path != "/ready"]  # 503 without a broker: what it is there to say
        assert len(operations) >= 10
        for operation in operations:
            @HYPOTHESIS
            @given(case=operation.as_strategy())
            def probe(case):
                response = case.call(base_url=url)
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: "
                                    f"{response.text[:200]}")

            probe()

        @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=14))
        def query(words):
            sql = " ".join(words)
            response = client.post("/query", json={"voter": ALICE, "sql": sql})
            if response.status_code >= 500 or (response.status_code >= 400 and
                                                response.headers["content-type"] != "application/problem+json"):
                failures.append(f"{sql!r} -> {response.status_code}: {response.text[:200]}")

        query()
    assert not failures, "\n".join(failures[:10])
