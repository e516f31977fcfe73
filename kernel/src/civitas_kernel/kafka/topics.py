"""Creating the topics of streams before anyone produces to or consumes from them."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from civitas_kernel.kafka.settings import KafkaSettings

TOPIC_ALREADY_EXISTS = 36  # Kafka error code: fine, someone created it first


class TopicError(RuntimeError):
    """The broker refused to create a topic."""


async def ensure_topics(settings: KafkaSettings, streams: Iterable[str]) -> list[str]:
    """Create the topic of each stream unless it exists; returns the topic names."""
    topics = sorted({settings.topic(s) for s in streams})
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.servers, client_id="civitas-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            response = await admin.create_topics(
                [NewTopic(t, settings.partitions, settings.replication_factor) for t in missing]
            )
            for topic, code, message in (e[:3] for e in response.topic_errors):
                if code not in (0, TOPIC_ALREADY_EXISTS):
                    raise TopicError(
                        f"could not create topic {topic!r} (Kafka error {code}: {message}); check "
                        "CIVITAS_KAFKA_PARTITIONS / CIVITAS_KAFKA_REPLICATION_FACTOR against the cluster"
                    )
    finally:
        await admin.close()
    return topics
