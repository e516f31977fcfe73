"""One command through the gateway yields one connected trace: gateway -> owning service -> Kafka producer -> counter's consumer.

The four applications run in this process, each served over real HTTP by uvicorn in a thread of its own,
with a real broker, PostgreSQL and SMTP server, so the spans land in one in-memory exporter.
"""

from __future__ import annotations

import time
from contextlib import ExitStack

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from civitas.distributed.counter_service import create_counter_app
from civitas.distributed.gateway_service import create_gateway_app
from civitas.distributed.polls_service import create_polls_app
from civitas.distributed.registry_service import create_registry_app
from civitas.distributed.settings import ServiceSettings
from civitas.gateway.auth import AuthSettings
from civitas.gateway.mail import SMTPMailer

TOKEN = "operator-token-for-tracing-tests-0123456789"
VOTER = "alice@example.org"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):  # the global provider can be set once per process
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


def test_a_command_is_one_trace_from_gateway_to_the_counters_consumer(
    tmp_path, kafka_broker, make_database_url, exporter, smtp, server_thread
):
    kafka = kafka_broker.settings()
    home = tmp_path / "home"
    servers = {name: server_thread() for name in ("registry", "polls", "counter", "gateway")}

    def settings(service: str, log_url: str | None = None) -> ServiceSettings:
        return ServiceSettings(SERVICE=service, HOME=home, SITE="localhost", LOG_URL=log_url, PUBLISH_WAIT_S=5,
                               REGISTRY_URL=servers["registry"].url, POLLS_URL=servers["polls"].url,
                               COUNTER_URL=servers["counter"].url)

    inbox, smtp_port = smtp
    auth = AuthSettings(HOME=home, SITE="localhost", OPERATOR_TOKEN=TOKEN)
    apps = {"registry": create_registry_app(settings("registry", make_database_url("postgres")), kafka=kafka),
            "polls": create_polls_app(settings("polls", make_database_url("postgres")), kafka=kafka),
            "counter": create_counter_app(settings("counter", make_database_url("postgres")), kafka=kafka),
            "gateway": create_gateway_app(settings("gateway"), auth, mailer=SMTPMailer("127.0.0.1", smtp_port))}
    with ExitStack() as stack:
        for name, app in apps.items():  # each in a thread of this process, so every span lands in one exporter
            stack.enter_context(servers[name].serving(app))
        gateway = stack.enter_context(httpx.Client(base_url=servers["gateway"].url, timeout=30))
        counter = stack.enter_context(httpx.Client(base_url=servers["counter"].url, timeout=30))

        def replica_holds(stream: str, seq: int) -> None:
            deadline = time.monotonic() + 30
            while not any(s["stream"] == stream and s["seq"] >= seq for s in counter.get("/streams").json()):
                assert time.monotonic() < deadline, f"the counter never applied {stream} {seq}: {counter.get('/ready').text}"
                time.sleep(0.05)

        deadline = time.monotonic() + 30
        while (ready := gateway.get("/ready")).status_code != 200:  # as a load balancer would wait
            assert time.monotonic() < deadline, f"the services never became ready: {ready.text}"
            time.sleep(0.05)
        created = gateway.post("/api/polls", json={"name": "traced"}, headers={"Authorization": f"Bearer {TOKEN}"})
        assert created.status_code == 201, created.text
        challenge = gateway.post("/api/auth/code", json={"email": VOTER}).json()["challenge"]
        session = gateway.post("/api/auth/session", json={"challenge": challenge, "code": inbox.code_for(VOTER)}).json()
        voted = gateway.put("/api/polls/traced/vote", json={"candidate": "bob@example.org"},
                            headers={"Authorization": f"Bearer {session['token']}"})
        assert voted.status_code == 200, voted.text
        replica_holds("poll", 1)
        replica_holds("vote", 1)
        time.sleep(0.2)  # the consumer span ends right after its transaction commits

    spans = exporter.get_finished_spans()
    # An operator's command, one call to the owner; and a voter's, which travels in a batch of commands.
    create = connected_trace(spans, "poll create", "POST /api/polls", "POST /polls")
    vote = connected_trace(spans, "poll vote", "PUT /api/polls/{poll}/vote", "POST /commands")
    batch = next(s for s in vote if s.kind is SpanKind.CLIENT and s.name == "polls commands")
    assert batch.attributes["civitas.batch.command_count"] == 1
    assert {s.context.trace_id for s in create}.isdisjoint({s.context.trace_id for s in vote})


def connected_trace(spans, command_name: str, gateway_route: str, service_route: str) -> list:
    """The spans of the command's trace, checked to run gateway -> service -> producer -> consumers without a break."""
    command = next(s for s in spans if s.name == command_name)
    in_trace = [s for s in spans if s.context.trace_id == command.context.trace_id]
    by_id = {s.context.span_id: s for s in in_trace}

    def ancestors(span) -> list:
        chain = []
        while span.parent is not None:
            span = by_id[span.parent.span_id]
            chain.append(span)
        return chain

    gateway = next(s for s in in_trace if s.kind is SpanKind.SERVER and s.name == gateway_route)
    service = next(s for s in in_trace if s.kind is SpanKind.SERVER and s.name == service_route)
    (producer,) = [s for s in in_trace if s.kind is SpanKind.PRODUCER]
    consumers = [s for s in in_trace if s.kind is SpanKind.CONSUMER]
    assert consumers, f"the counter's consumer span is not in the trace of {command_name}"
    assert command in ancestors(service)  # the owning service joined the gateway's trace over HTTP
    assert service in ancestors(producer)  # the relay published inside the command's request
    assert all(c.parent.span_id == producer.context.span_id for c in consumers)  # through Kafka headers
    assert all(ancestors(s)[-1:] == [gateway] for s in in_trace if s is not gateway)  # one connected trace
    return in_trace
