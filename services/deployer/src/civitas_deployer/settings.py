"""The deployer's settings: where the live repository is, how large a patch may be, and how often it decides."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from civitas_kernel.service.settings import OwnerSettings

from civitas_deployer.fetch import FETCH_TIMEOUT_S, MAX_FETCH_BYTES, FetchLimits
from civitas_deployer.live_repo import MAX_PATCH_BYTES


class ChangeSettings(BaseSettings):
    """CIVITAS_LIVE_REPO, CIVITAS_MAX_PATCH_BYTES, CIVITAS_DECIDE_EVERY_S, CIVITAS_FETCH_*: the deployer's and the
    embedded site's."""

    model_config = SettingsConfigDict(env_prefix="CIVITAS_")

    LIVE_REPO: Path | None = None  # the live repository (a bare git repository); default CIVITAS_HOME/live.git
    MAX_PATCH_BYTES: int = Field(MAX_PATCH_BYTES, ge=1024, le=1 << 30)
    DECIDE_EVERY_S: float = Field(60, ge=0)  # how often proposals whose voting closed are decided; 0: never
    FETCH_TIMEOUT_S: float = Field(FETCH_TIMEOUT_S, gt=0, le=3600)  # one fetch of a proposal from a git URL
    MAX_FETCH_BYTES: int = Field(MAX_FETCH_BYTES, ge=1 << 16, le=1 << 34)  # what one fetch may bring
    FETCH_INTERNAL_HOSTS: bool = False  # whether git URLs may name loopback, private or link-local addresses
    DEPLOY_EVERY_S: float = Field(5, ge=0)  # how often approved decisions not yet deployed are deployed; 0: never
    DEPLOY_HEALTH_S: float = Field(30, gt=0, le=600)  # a release's health window: serve it healthy by then or go

    @property
    def fetch_limits(self) -> FetchLimits:
        return FetchLimits(self.FETCH_TIMEOUT_S, self.MAX_FETCH_BYTES, self.FETCH_INTERNAL_HOSTS)

    @property
    def live_repo_path(self) -> Path:
        return self.LIVE_REPO or self.HOME / "live.git"


class DeployerSettings(OwnerSettings, ChangeSettings):
    """`civitas serve deployer`: its log of record (CIVITAS_LOG_URL), the live repository, where the counter is, and
    the gateway its smoke requests go through (CIVITAS_GATEWAY_URL)."""

    GATEWAY_URL: str = "http://127.0.0.1:8000"
