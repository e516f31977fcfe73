"""One command through the gateway yields one connected trace: gateway -> owning service -> Kafka producer -> counter's consumer.

The four applications run in this process (TestClient for HTTP, a real broker and PostgreSQL), so the
spans land in one in-memory exporter.
"""

from __future__ import annotations

import time
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from civitas.distributed.counter_service import create_counter_app
from civitas.distributed.facade import RemoteSite
from civitas.distributed.gateway_service import create_gateway_app
from civitas.distributed.polls_service import create_polls_app
from civitas.distributed.registry_service import create_registry_app
from civitas.distributed.settings import ServiceSettings
from civitas.gateway.auth import AuthSettings

TOKEN = "operator-token-for-tracing-tests-0123456789"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):  # the global provider can be set once per process
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


class NoMail:
    def send(self, message) -> None:
        raise AssertionError("this test signs nobody in")


def test_a_command_is_one_trace_from_gateway_to_the_counters_consumer(tmp_path, kafka_broker, make_database_url, exporter):
    kafka = kafka_broker.settings()
    home = tmp_path / "home"

    def settings(service: str, log_url: str | None = None) -> ServiceSettings:
        return ServiceSettings(SERVICE=service, HOME=home, SITE="localhost", LOG_URL=log_url, PUBLISH_WAIT_S=5)

    with ExitStack() as stack:
        def serve(app) -> TestClient:
            return stack.enter_context(TestClient(app, base_url="http://service"))

        registry = serve(create_registry_app(settings("registry", make_database_url("postgres")), kafka=kafka))
        polls = serve(create_polls_app(settings("polls", make_database_url("postgres")), kafka=kafka))
        counter = serve(create_counter_app(settings("counter", make_database_url("postgres")), kafka=kafka))
        site = RemoteSite(settings("gateway"), http_clients={"registry": registry, "polls": polls, "counter": counter})
        auth = AuthSettings(HOME=home, SITE="localhost", OPERATOR_TOKEN=TOKEN)
        gateway = serve(create_gateway_app(settings("gateway"), auth, mailer=NoMail(), site=site))

        created = gateway.post("/api/polls", json={"name": "traced"}, headers={"Authorization": f"Bearer {TOKEN}"})
        assert created.status_code == 201, created.text
        deadline = time.monotonic() + 30
        while not any(s["stream"] == "poll" and s["seq"] == 1 for s in counter.get("/streams").json()):
            assert time.monotonic() < deadline, f"the counter never applied the poll event: {counter.get('/ready').text}"
            time.sleep(0.05)
        time.sleep(0.2)  # the consumer span ends right after its transaction commits

    spans = exporter.get_finished_spans()
    command = next(s for s in spans if s.name == "poll create")
    in_trace = [s for s in spans if s.context.trace_id == command.context.trace_id]
    by_id = {s.context.span_id: s for s in in_trace}

    def ancestors(span) -> list:
        chain = []
        while span.parent is not None:
            span = by_id[span.parent.span_id]
            chain.append(span)
        return chain

    gateway = next(s for s in in_trace if s.kind is SpanKind.SERVER and s.name == "POST /api/polls")
    service = next(s for s in in_trace if s.kind is SpanKind.SERVER and s.name == "POST /polls")
    (producer,) = [s for s in in_trace if s.kind is SpanKind.PRODUCER]
    consumers = [s for s in in_trace if s.kind is SpanKind.CONSUMER]
    assert consumers, "the counter's consumer span is not in the command's trace"
    assert service.parent.span_id == command.context.span_id  # the polls service joined the gateway's trace over HTTP
    assert service in ancestors(producer)  # the relay published inside the command's request
    assert all(c.parent.span_id == producer.context.span_id for c in consumers)  # through Kafka headers
    assert all(ancestors(s)[-1:] == [gateway] for s in in_trace if s is not gateway)  # one connected trace
