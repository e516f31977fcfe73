"""Host mode's settings (CIVITAS_*): how long a release may take to get ready and to answer, how long it has to stop."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class HostSettings(BaseSettings):
    """CIVITAS_READY_TIMEOUT_S, CIVITAS_SMOKE_TIMEOUT_S, CIVITAS_STOP_GRACE_S, CIVITAS_SUPERVISED."""

    model_config = SettingsConfigDict(env_prefix="CIVITAS_")

    READY_TIMEOUT_S: float = Field(60, gt=0, le=600)  # a release not ready by then hangs or is too slow: it goes
    SMOKE_TIMEOUT_S: float = Field(15, gt=0, le=300)  # the front page through the new release's gateway
    STOP_GRACE_S: float = Field(10, gt=0, le=120)  # SIGTERM, then SIGKILL after this
    SUPERVISED: bool = False  # set for a release's site by its supervisor: the supervisor deploys, never the site
