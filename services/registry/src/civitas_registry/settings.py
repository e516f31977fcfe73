"""The registry's settings: the site's rules for voter lists (CIVITAS_PRE_REGISTRATION_MIN, CIVITAS_TRUST_RANGE_PREFIX)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from civitas_kernel.service.settings import OwnerSettings

from civitas_registry.domain.voter_list import ListConfig


class ListRules(BaseSettings):
    """The rules a voter list is compiled by; whoever compiles lists (the counter, the embedded site) reads them too."""

    model_config = SettingsConfigDict(env_prefix="CIVITAS_")

    PRE_REGISTRATION_MIN: int = Field(0, ge=0)  # trust level needed to pre-register others (--alter)
    TRUST_RANGE_PREFIX: int | None = Field(None, ge=1)  # trust counts only within a shared postal-code prefix

    @property
    def list_config(self) -> ListConfig:
        return ListConfig(pre_registration_min=self.PRE_REGISTRATION_MIN, range_prefix=self.TRUST_RANGE_PREFIX)


class MoveRules(BaseSettings):
    """How soon a voter who moved between sites may move again (CIVITAS_MOVE_COOLING_OFF_DAYS, default 7)."""

    model_config = SettingsConfigDict(env_prefix="CIVITAS_")

    MOVE_COOLING_OFF_DAYS: float = Field(7.0, ge=0)

    @property
    def cooling_off_us(self) -> int:
        return int(self.MOVE_COOLING_OFF_DAYS * 86_400_000_000)


class RegistrySettings(OwnerSettings, ListRules, MoveRules):
    """`civitas serve registry`: the owner's settings, the list rules and the moves' cooling-off."""
