"""What `civitas serve` reads from the environment (CIVITAS_*): which service, where it listens, whom it calls."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from civitas.settings import Settings

Service = Literal["registry", "polls", "counter", "gateway"]
SERVICES: tuple[str, ...] = ("registry", "polls", "counter", "gateway")
DEFAULT_PORTS = {"gateway": 8000, "registry": 8001, "polls": 8002, "counter": 8003}


class ServiceSettings(Settings):
    """CIVITAS_SERVICE, CIVITAS_HOST, CIVITAS_PORT, CIVITAS_KEY_FILE, CIVITAS_*_URL and the readiness bounds.

    CIVITAS_LOG_URL is the service's own PostgreSQL database: the log of record for registry and
    polls, the replica for counter; the gateway has none. Kafka comes from CIVITAS_KAFKA_*.
    """

    SERVICE: Service | None = None
    HOST: str = "127.0.0.1"
    PORT: int | None = Field(None, ge=1, le=65535)  # default: DEFAULT_PORTS[SERVICE]
    KEY_FILE: Path | None = None  # the site key all services sign with; default CIVITAS_HOME/site-key.pem
    WORKERS: int = Field(1, ge=1, le=64)  # gateway only: processes serving it side by side (it keeps no state)
    # Proxies trusted to say who the client is (X-Forwarded-For), e.g. an ingress's address or "*"; empty: none,
    # so rate limits count the peer's own address.
    FORWARDED_ALLOW_IPS: str = ""

    REGISTRY_URL: str = "http://127.0.0.1:8001"
    POLLS_URL: str = "http://127.0.0.1:8002"
    COUNTER_URL: str = "http://127.0.0.1:8003"
    CALL_TIMEOUT_S: float = Field(30.0, gt=0)  # one internal HTTP call, at most

    PUBLISH_WAIT_S: float = Field(2.0, ge=0)  # a command's reply waits this long for Kafka's ack, at most
    READY_MAX_UNPUBLISHED: int = Field(10_000, ge=0)  # owners: events not yet on Kafka before /ready says no
    READY_MAX_STALE_S: float = Field(30.0, gt=0)  # counter: seconds without a good consumer round before /ready says no
    COMPILE_WAIT_S: float = Field(30.0, ge=0)  # counter: how long a compile waits for the replica to reach the owners
    REPORTED_TTL_S: float = Field(1.0, ge=0)  # owners: how long a fetched reported list/count id is trusted

    @property
    def key_file(self) -> Path:
        return self.KEY_FILE or self.key_path

    def port_of(self, service: str) -> int:
        return self.PORT or DEFAULT_PORTS[service]
