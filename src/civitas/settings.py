"""The site's settings: the kernel's CIVITAS_* plus the site's rules."""

from __future__ import annotations

from pydantic import Field

from civitas_kernel.settings import SiteSettings


class Settings(SiteSettings):
    """CIVITAS_HOME, CIVITAS_SITE, CIVITAS_LOG_URL, and the voting rules below."""

    PRE_REGISTRATION_MIN: int = Field(0, ge=0)  # trust level needed to pre-register others (--alter)
    TRUST_RANGE_PREFIX: int | None = Field(None, ge=1)  # trust counts only within a shared postal-code prefix
    COMPILE_EVERY_MINUTES: float = Field(60, ge=0)  # how often `civitas up` compiles a list and a count; 0: never
    COMPILE_JITTER: float = Field(0.25, ge=0, lt=1)  # each wait moves by up to this share of itself, at random
