"""A command's span, the relay's publish and the consumer's processing make one connected trace."""

from __future__ import annotations

import asyncio

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from civitas_kernel import telemetry
from civitas_kernel.kafka import OutboxRelay, StreamConsumer
from civitas_kernel.testing.events import votes

SITE = "alpha.example.org"


def test_publishing_in_a_span_and_consuming_yields_one_connected_trace(kafka_broker, sqlite_log, projection, consume_until):
    settings = kafka_broker.settings()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    async def scenario():
        async with OutboxRelay(sqlite_log, settings, ["vote"], tracer_provider=provider) as relay:
            with telemetry.tracer(provider).start_as_current_span("command vote.cast"):
                sqlite_log.append("vote", votes(20))
                assert await relay.publish_pending() == 20
        async with StreamConsumer(settings, projection.projector, ["vote"], tracer_provider=provider) as consumer:
            await consume_until(consumer, lambda: projection.projector.position(SITE, "vote") == 20)

    asyncio.run(scenario())
    spans = exporter.get_finished_spans()
    command = next(s for s in spans if s.name == "command vote.cast")
    (producer,) = [s for s in spans if s.kind is SpanKind.PRODUCER]
    consumers = [s for s in spans if s.kind is SpanKind.CONSUMER]
    assert consumers
    assert {s.context.trace_id for s in [command, producer, *consumers]} == {command.context.trace_id}
    assert producer.parent.span_id == command.context.span_id
    assert all(s.parent.span_id == producer.context.span_id for s in consumers)
    assert sum(s.attributes["messaging.batch.message_count"] for s in consumers) == 20
