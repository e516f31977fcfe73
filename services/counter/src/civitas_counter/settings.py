"""The counter's settings: when it compiles, how long a compile waits for its replica, when /ready says no."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from civitas_kernel.service.settings import ServiceSettings
from civitas_registry import ListRules


class CompileSchedule(BaseSettings):
    """CIVITAS_COMPILE_EVERY_MINUTES and CIVITAS_COMPILE_JITTER: the counter's schedule, and the embedded site's."""

    model_config = SettingsConfigDict(env_prefix="CIVITAS_")

    COMPILE_EVERY_MINUTES: float = Field(60, ge=0)  # how often a list and a count are compiled; 0: never
    COMPILE_JITTER: float = Field(0.25, ge=0, lt=1)  # each wait moves by up to this share of itself, at random


class CounterSettings(ServiceSettings, ListRules, CompileSchedule):
    """`civitas serve counter`: where its replica is (CIVITAS_LOG_URL), the list rules and the schedule."""

    COMPILE_WAIT_S: float = Field(30.0, ge=0)  # how long a compile waits for the replica to reach the owners
    READY_MAX_STALE_S: float = Field(30.0, gt=0)  # seconds without a good consumer round before /ready says no
    # The sites whose registration and trust MirrorMaker 2 copies into this cluster (`<site>.civitas.<stream>`),
    # compiled into list@SITE records as the embedded site does; names separated by commas, keys in known-sites.toml.
    COUNTER_ORIGINS: str = ""
    # The sites that reach this site only over HTTP, whose registration and trust the sync service holds (pulled
    # from a sub-site, or relayed through one): read from its pages at CIVITAS_SYNC_URL, verified with the keys in
    # known-sites.toml, compiled into list@SITE records the same way. Names separated by commas.
    COUNTER_SYNCED_ORIGINS: str = ""
    # The sync service's heads are read at least this often (and at least every 5 s); it answers sooner, holding the
    # request until one moves. A sync service that does not hold them is polled this often.
    COUNTER_SYNCED_EVERY_S: float = Field(2.0, gt=0)
