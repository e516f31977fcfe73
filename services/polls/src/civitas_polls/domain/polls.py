"""A poll's configuration and the guards on it."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from civitas_kernel.addresses import normalise_address
from civitas_kernel.commands import CommandError
from civitas_schema.v1 import poll_pb2

POLL_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,38}[a-z0-9]")
DISTRICT = re.compile(r"[A-Z0-9-]{0,20}")
KINDS = {"electoral": poll_pb2.POLL_KIND_ELECTORAL, "normative": poll_pb2.POLL_KIND_NORMATIVE}
KIND_NAMES = {value: name for name, value in KINDS.items()}
MAX_TITLE, MAX_URI, MAX_MIN_TRUST = 200, 500, 1000
MAX_TIME_US = 253_402_300_799_000_000  # 9999-12-31 23:59:59 UTC in microseconds: the last time a date can show
RESERVED = {"register", "change", "drafts"}  # the other services of the voter shell


class PollError(CommandError):
    """A poll configuration or a vote that cannot be accepted as given."""


@dataclass(frozen=True)
class PollConfig:
    name: str
    title: str
    kind: str = "electoral"  # electoral: candidates are voters; normative: proposals named by URI
    district: str = ""  # neighbourhood-code prefix of those who may vote; empty: the whole site
    min_trust: int = 0
    opens_at_us: int = 0  # 0: open from creation
    closes_at_us: int = 0  # 0: never closes

    def to_message(self) -> poll_pb2.PollConfigured:
        return poll_pb2.PollConfigured(
            name=self.name, title=self.title, kind=KINDS[self.kind], district=self.district,
            min_trust=self.min_trust, opens_at_us=self.opens_at_us, closes_at_us=self.closes_at_us,
        )

    @classmethod
    def from_message(cls, m: poll_pb2.PollConfigured) -> PollConfig:
        return cls(m.name, m.title, KIND_NAMES.get(m.kind, "electoral"), m.district, m.min_trust,
                   m.opens_at_us, m.closes_at_us)

    def with_changes(self, **changes) -> PollConfig:
        unknown = set(changes) - {"title", "district", "min_trust", "opens_at_us", "closes_at_us"}
        if unknown:
            raise PollError(f"cannot change {', '.join(sorted(unknown))} of a poll")
        return checked(replace(self, **changes))

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def checked(config: PollConfig) -> PollConfig:
    """The configuration, normalised, or PollError saying what to fix."""
    check_name(config.name)
    title = " ".join(config.title.split())
    if not title or len(title) > MAX_TITLE or not title.isprintable():
        raise PollError(f"a poll's title is 1 to {MAX_TITLE} printable characters")
    if config.kind not in KINDS:
        raise PollError(f"a poll's kind is electoral or normative, not {config.kind!r}")
    district = config.district.strip().upper()
    if not DISTRICT.fullmatch(district):
        raise PollError("a district is the start of a postal code: letters, digits and '-', at most 20")
    if not 0 <= config.min_trust <= MAX_MIN_TRUST:
        raise PollError(f"the minimum trust level is a whole number from 0 to {MAX_MIN_TRUST}")
    if config.opens_at_us < 0 or config.closes_at_us < 0:
        raise PollError("opening and closing times cannot be before 1970")
    if config.opens_at_us > MAX_TIME_US or config.closes_at_us > MAX_TIME_US:
        raise PollError(f"opening and closing times are microseconds since 1970, at most {MAX_TIME_US} (the end of 9999)")
    if config.closes_at_us and config.closes_at_us <= config.opens_at_us:
        raise PollError("a poll must close after it opens")
    return replace(config, title=title, district=district)


def check_name(name: str) -> None:
    if not POLL_NAME.fullmatch(name or "") or name in RESERVED:
        raise PollError(
            f"{name!r} cannot name a poll: use 2 to 40 lower-case letters, digits and '-' (like test-poll), not 'register' or 'change'"
        )


def check_open(config: PollConfig, now_us: int) -> None:
    if config.opens_at_us and now_us < config.opens_at_us:
        raise PollError(f"{config.name} is not open yet; voting opens at {_when(config.opens_at_us)}")
    if config.closes_at_us and now_us >= config.closes_at_us:
        raise PollError(f"{config.name} is closed; voting closed at {_when(config.closes_at_us)}")


def _when(us: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(us / 1e6, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def normalise_candidate(config: PollConfig, text: str) -> str:
    """A candidate as the poll names them: a voter's address, or a proposal's absolute URI."""
    if config.kind == "electoral":
        try:
            return normalise_address(text)
        except CommandError as e:
            raise PollError(f"{config.name} is electoral: vote for a person by email address ({e})") from None
    parts = urlsplit(text.strip())
    if not parts.scheme or not (parts.netloc or parts.path) or len(text) > MAX_URI or not text.isprintable() or " " in text.strip():
        raise PollError(f"{config.name} is normative: vote for a proposal by its absolute URI, like https://example.org/p/1")
    return text.strip()
