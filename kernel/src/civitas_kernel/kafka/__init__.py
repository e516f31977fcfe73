"""The Kafka transport: an outbox relay from the log of record to topics, and verifying consumers into Projectors."""

from __future__ import annotations

import importlib

# Loaded on first use, so importing the settings alone (e.g. from test fixtures) does not import aiokafka.
_EXPORTS = {
    "KafkaSettings": "civitas_kernel.kafka.settings",
    "OutboxRelay": "civitas_kernel.kafka.relay",
    "StreamConsumer": "civitas_kernel.kafka.consumer",
    "ParkedMessage": "civitas_kernel.kafka.consumer",
    "LogSource": "civitas_kernel.kafka.source",
    "Source": "civitas_kernel.kafka.source",
    "ensure_topics": "civitas_kernel.kafka.topics",
    "TopicError": "civitas_kernel.kafka.topics",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'civitas_kernel.kafka' has no attribute {name!r}")
