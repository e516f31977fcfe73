"""One command through the gateway yields one connected trace: gateway -> owning service -> Kafka producer -> counter's consumer.

The four applications run in this process, each served over real HTTP by uvicorn in a thread of its own,
with a real broker, PostgreSQL and SMTP server, so the spans land in one in-memory exporter.
"""

from __future__ import annotations

import time

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from civitas_gateway.auth import AuthSettings

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


def test_a_command_is_one_trace_from_gateway_to_the_counters_consumer(kafka_broker, exporter, smtp, threaded_services,
                                                                      tmp_path):
    inbox, smtp_port = smtp
    auth = AuthSettings(HOME=tmp_path / "home", SITE="localhost", OPERATOR_TOKEN=TOKEN, SMTP_HOST="127.0.0.1",
                        SMTP_PORT=smtp_port)
    urls = threaded_services(kafka_broker.settings(), auth, PUBLISH_WAIT_S=5)  # each in a thread: spans land here
    with httpx.Client(base_url=urls["gateway"], timeout=30) as gateway, \
            httpx.Client(base_url=urls["counter"], timeout=30) as counter:
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

    spans = consumers_finished(exporter, ["poll create", "poll vote"])
    # An operator's command, one call to the owner; and a voter's, which travels in a batch of commands.
    create = connected_trace(spans, "poll create", "POST /api/polls", "POST /polls")
    vote = connected_trace(spans, "poll vote", "PUT /api/polls/{poll}/vote", "POST /commands")
    batch = next(s for s in vote if s.kind is SpanKind.CLIENT and s.name == "polls commands")
    assert batch.attributes["civitas.batch.command_count"] == 1
    assert {s.context.trace_id for s in create}.isdisjoint({s.context.trace_id for s in vote})


def consumers_finished(exporter: InMemorySpanExporter, command_names: list[str], timeout: float = 10.0) -> tuple:
    """The finished spans, once each command's trace holds a consumer span (it ends just after its transaction)."""
    deadline = time.monotonic() + timeout
    while True:
        spans = exporter.get_finished_spans()
        traces = {s.context.trace_id for s in spans if s.name in command_names}
        consumed = {s.context.trace_id for s in spans if s.kind is SpanKind.CONSUMER}
        if (len(traces) == len(command_names) and traces <= consumed) or time.monotonic() > deadline:
            return spans  # past the deadline, connected_trace says what is missing
        time.sleep(0.02)


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
    producers = [s for s in in_trace if s.kind is SpanKind.PRODUCER]
    assert len(producers) == 1, f"{command_name}: producer spans in its trace {[dict(p.attributes) for p in producers]}, " \
        f"in all {[(dict(p.attributes), p.context.trace_id == command.context.trace_id) for p in spans if p.kind is SpanKind.PRODUCER]}"
    (producer,) = producers
    consumers = [s for s in in_trace if s.kind is SpanKind.CONSUMER]
    assert consumers, f"the counter's consumer span is not in the trace of {command_name}"
    assert command in ancestors(service)  # the owning service joined the gateway's trace over HTTP
    assert service in ancestors(producer)  # the relay published inside the command's request
    assert all(c.parent.span_id == producer.context.span_id for c in consumers)  # through Kafka headers
    assert all(ancestors(s)[-1:] == [gateway] for s in in_trace if s is not gateway)  # one connected trace
    return in_trace
