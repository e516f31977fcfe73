"""What every service reads from the environment (CIVITAS_*): where it listens, its key, and where the others are."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from civitas_kernel.settings import SiteSettings


class ServiceSettings(SiteSettings):
    """CIVITAS_SERVICE, CIVITAS_HOST, CIVITAS_PORT, CIVITAS_KEY_FILE, CIVITAS_WORKERS and CIVITAS_*_URL.

    CIVITAS_LOG_URL is the service's own PostgreSQL database: the log of record for registry and
    polls, the replica for counter; the gateway has none. Kafka comes from CIVITAS_KAFKA_*.
    """

    SERVICE: str | None = None
    HOST: str = "127.0.0.1"
    PORT: int | None = Field(None, ge=1, le=65535)  # default: the service's own (its ServiceEntry)
    KEY_FILE: Path | None = None  # the site key all services sign with; default CIVITAS_HOME/site-key.pem
    WORKERS: int = Field(1, ge=1, le=64)  # processes serving it side by side, for a service that keeps no state
    # Proxies trusted to say who the client is (X-Forwarded-For), e.g. an ingress's address or "*"; empty: none,
    # so rate limits count the peer's own address.
    FORWARDED_ALLOW_IPS: str = ""

    REGISTRY_URL: str = "http://127.0.0.1:8001"
    POLLS_URL: str = "http://127.0.0.1:8002"
    COUNTER_URL: str = "http://127.0.0.1:8003"
    DEPLOYER_URL: str = "http://127.0.0.1:8004"
    DRAFTS_URL: str = "http://127.0.0.1:8005"
    SYNC_URL: str = ""  # the sync service (`civitas serve sync`), where a site takes part in a network; empty: none
    CALL_TIMEOUT_S: float = Field(30.0, gt=0)  # one internal HTTP call, at most
    REPORTED_TTL_S: float = Field(1.0, ge=0)  # how long a fetched reported list/count id is trusted

    @property
    def key_file(self) -> Path:
        return self.KEY_FILE or self.key_path


class OwnerSettings(ServiceSettings):
    """A service that owns streams (registry, polls): how long a reply waits for Kafka, when /ready says no."""

    PUBLISH_WAIT_S: float = Field(2.0, ge=0)  # a command's reply waits this long for Kafka's ack, at most
    READY_MAX_UNPUBLISHED: int = Field(10_000, ge=0)  # events not yet on Kafka before /ready says no
