"""The composition root of the embedded site: one process, one SQLite log, every service."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from civitas_kernel.log import EventLog
from civitas_kernel.settings import SiteSettings
from civitas_kernel.signing import SiteKey
from civitas_kernel.sql import open_log


@dataclass
class Site:
    settings: SiteSettings

    @cached_property
    def key(self) -> SiteKey:
        return SiteKey.load_or_create(self.settings.key_path)

    @cached_property
    def log(self) -> EventLog:
        return open_log(self.settings.log_url, self.settings.SITE, self.key)


def bootstrap(settings: SiteSettings | None = None) -> Site:
    """Wire the site from settings (the environment when none are given)."""
    return Site(settings or SiteSettings())
