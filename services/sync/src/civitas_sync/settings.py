"""The sync settings (CIVITAS_SYNC_*), the same for the embedded site and the sync service."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from civitas_kernel.service.settings import ServiceSettings


class SyncOptions(BaseSettings):
    """How often peers are pulled, how many pages are in flight, how a dead peer is retried."""

    model_config = SettingsConfigDict(env_prefix="CIVITAS_")

    SYNC_EVERY_S: float = Field(2.0, ge=0)  # a round over the peers this often; 0: no sync worker
    SYNC_PAGES_IN_FLIGHT: int = Field(4, ge=1, le=64)
    SYNC_TIMEOUT_S: float = Field(30.0, gt=0)  # one request to a peer, at most
    SYNC_BACKOFF_BASE_S: float = Field(2.0, gt=0)  # after a failure; doubled each failure after
    SYNC_BACKOFF_CAP_S: float = Field(3600.0, gt=0)  # never longer between tries of a dead peer
    # Peers whose streams MirrorMaker 2 carries into this site's Kafka (`civitas serve sync` consumes them); their
    # own streams are then only compared over HTTP. Site names, separated by commas.
    SYNC_MIRRORED: str = ""


class SyncSettings(ServiceSettings, SyncOptions):
    """`civitas serve sync`: the log it serves and pulls into (CIVITAS_LOG_URL, default the site's SQLite file)."""

    # The site's voter-list rules, read from the same variables as the registry's, served signed with the heads.
    PRE_REGISTRATION_MIN: int = Field(0, ge=0)
    TRUST_RANGE_PREFIX: int | None = Field(None, ge=1)

    def list_rules(self) -> dict:
        return {"pre_registration_min": self.PRE_REGISTRATION_MIN, "range_prefix": self.TRUST_RANGE_PREFIX}
