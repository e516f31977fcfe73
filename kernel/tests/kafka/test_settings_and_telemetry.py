"""Settings from the environment, and telemetry that stays silent without an endpoint."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from pydantic import ValidationError

from civitas_kernel import telemetry
from civitas_kernel.kafka.settings import KafkaSettings
from civitas_kernel.testing.metrics import metric_points


def test_settings_come_from_civitas_kafka_variables(monkeypatch):
    monkeypatch.setenv("CIVITAS_KAFKA_BOOTSTRAP_SERVERS", "k1:9092, k2:9092")
    monkeypatch.setenv("CIVITAS_KAFKA_TOPIC_TEMPLATE", "site-a.{stream}.v1")
    monkeypatch.setenv("CIVITAS_KAFKA_IDEMPOTENT_PRODUCER", "false")
    monkeypatch.setenv("CIVITAS_KAFKA_PARTITIONS", "12")
    settings = KafkaSettings()
    assert settings.servers == ["k1:9092", "k2:9092"]
    assert settings.topic("vote") == "site-a.vote.v1"
    assert settings.idempotent_producer is False and settings.partitions == 12


def test_a_topic_template_without_the_stream_is_refused():
    with pytest.raises(ValidationError, match=r"must contain '\{stream\}'"):
        KafkaSettings(topic_template="civitas")


def test_telemetry_is_silent_without_an_endpoint():
    assert telemetry.configure("test", environ={}) is False


def test_trace_context_travels_in_headers():
    provider = TracerProvider()
    with telemetry.tracer(provider).start_as_current_span("produce") as span:
        headers = telemetry.inject_headers()
    assert [k for k, _ in headers] == ["traceparent"]
    from opentelemetry import trace

    extracted = trace.get_current_span(telemetry.extract_context(headers)).get_span_context()
    assert extracted.trace_id == span.get_span_context().trace_id
    assert extracted.span_id == span.get_span_context().span_id
    assert trace.get_current_span(telemetry.extract_context(None)).get_span_context().is_valid is False


def test_the_relay_and_the_consumer_count_what_they_publish_apply_and_lag(kafka_broker, sqlite_log, projection,
                                                                         consume_until):
    import asyncio

    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from civitas_kernel.kafka import OutboxRelay, StreamConsumer
    from civitas_kernel.testing.events import votes

    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    settings = kafka_broker.settings()
    sqlite_log.append("vote", votes(20))

    async def scenario():
        async with OutboxRelay(sqlite_log, settings, ["vote"], meter_provider=provider) as relay:
            await relay.publish_pending()
        async with StreamConsumer(settings, projection.projector, ["vote"], meter_provider=provider) as consumer:
            await consume_until(consumer, lambda: projection.projector.position(sqlite_log.site, "vote") == 20)

    asyncio.run(scenario())
    assert sum(p.value for p in metric_points(reader, "civitas.kafka.events.published")) == 20
    assert sum(p.value for p in metric_points(reader, "civitas.kafka.events.applied")) == 20
    lag = metric_points(reader, "civitas.kafka.consumer.lag")
    assert lag and sum(p.count for p in lag) >= 1 and all(p.min >= 0 for p in lag)
