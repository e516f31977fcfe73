"""Where a site keeps its data and what it calls itself, from the environment (CIVITAS_*)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from civitas_kernel.private_files import PRIVATE_UMASK, keep_files_private  # noqa: F401 (their old home)

SITE_NAME_HELP = "a DNS-style name such as civitas.example.org (letters, digits, '-' and '.')"


def default_home() -> Path:
    """$XDG_DATA_HOME/civitas, i.e. ~/.local/share/civitas unless XDG_DATA_HOME says otherwise."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "civitas"


class SiteSettings(BaseSettings):
    """CIVITAS_HOME, CIVITAS_SITE, CIVITAS_LOG_URL, CIVITAS_RELEASES, CIVITAS_SIGNER_SOCKET."""

    model_config = SettingsConfigDict(env_prefix="CIVITAS_")

    HOME: Path = default_home()
    SITE: str = "localhost"
    LOG_URL: str | None = None  # default: the SQLite file log.sqlite in HOME
    # The deployer's releases (the live one read by the pages, polls and rules); default CIVITAS_HOME/releases.
    # Services on their own point it at the folder the deployer writes.
    RELEASES: Path | None = None
    SIGNER_SOCKET: Path | None = None  # host mode: the supervisor signs over this socket; the key file is not read

    @field_validator("SITE")
    @classmethod
    def _site_name(cls, value: str) -> str:
        import re

        if not re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*", value):
            raise ValueError(f"CIVITAS_SITE={value!r} is not {SITE_NAME_HELP}")
        return value

    @property
    def log_url(self) -> str:
        return self.LOG_URL or f"sqlite:///{self.HOME / 'log.sqlite'}"

    @property
    def releases_path(self) -> Path:
        return self.RELEASES or self.HOME / "releases"

    @property
    def key_path(self) -> Path:
        return self.HOME / "site-key.pem"
