"""Where the Kafka transport connects and how it names, sizes and consumes topics (CIVITAS_KAFKA_*)."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseSettings):
    """CIVITAS_KAFKA_BOOTSTRAP_SERVERS, CIVITAS_KAFKA_TOPIC_TEMPLATE, ... (one field per variable)."""

    model_config = SettingsConfigDict(env_prefix="CIVITAS_KAFKA_")

    bootstrap_servers: str = "127.0.0.1:9092"  # comma-separated host:port list
    topic_template: str = "civitas.{stream}"  # one topic per stream; must contain {stream}
    partitions: int = Field(6, ge=1)
    replication_factor: int = Field(1, ge=1)
    consumer_group: str = "civitas"
    idempotent_producer: bool = True  # off for brokers without InitProducerId (Tansu)
    session_timeout_ms: int = Field(10_000, ge=1)
    heartbeat_interval_ms: int = Field(3_000, ge=1)
    linger_ms: int = Field(0, ge=0)  # the relay hands the producer a whole round at once: lingering only adds latency
    max_batch_bytes: int = Field(1_048_576, ge=1024)  # producer batch per partition
    fetch_partition_bytes: int = Field(8_388_608, ge=1024)  # consumer fetch per partition
    max_poll_records: int = Field(10_000, ge=1)  # messages applied per Projector transaction at most
    # For brokers that answer an empty fetch at once instead of holding it up to fetch.max.wait.ms
    # (noida-db): fetch only inside a poll, and rest this long after a poll that found nothing. 0: off.
    idle_backoff_ms: int = Field(0, ge=0)

    @field_validator("topic_template")
    @classmethod
    def _has_stream(cls, value: str) -> str:
        if "{stream}" not in value:
            raise ValueError(f"CIVITAS_KAFKA_TOPIC_TEMPLATE={value!r} must contain '{{stream}}', e.g. 'civitas.{{stream}}'")
        return value

    @property
    def servers(self) -> list[str]:
        return [s.strip() for s in self.bootstrap_servers.split(",") if s.strip()]

    def topic(self, stream: str) -> str:
        return self.topic_template.format(stream=stream)
