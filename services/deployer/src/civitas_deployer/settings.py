"""The deployer's settings: where the live repository is, how large a patch may be, and how often it decides."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from civitas_kernel.service.settings import OwnerSettings

from civitas_deployer.live_repo import MAX_PATCH_BYTES


class ChangeSettings(BaseSettings):
    """CIVITAS_LIVE_REPO, CIVITAS_MAX_PATCH_BYTES, CIVITAS_DECIDE_EVERY_S: the deployer's and the embedded site's."""

    model_config = SettingsConfigDict(env_prefix="CIVITAS_")

    LIVE_REPO: Path | None = None  # the live repository (a bare git repository); default CIVITAS_HOME/live.git
    MAX_PATCH_BYTES: int = Field(MAX_PATCH_BYTES, ge=1024, le=1 << 30)
    DECIDE_EVERY_S: float = Field(60, ge=0)  # how often proposals whose voting closed are decided; 0: never

    @property
    def live_repo_path(self) -> Path:
        return self.LIVE_REPO or self.HOME / "live.git"


class DeployerSettings(OwnerSettings, ChangeSettings):
    """`civitas serve deployer`: its log of record (CIVITAS_LOG_URL), the live repository, where the counter is."""
