"""The site's rules in force: rules.toml (trust range, pre-registration, compile schedule) and registrars.toml (who
may give primary trust), read from the live release when there is one, else the process's settings.

While the site runs from its live repository a rule the file writes is in force whatever the environment says; a
rule it leaves out is the operator's setting (civitas's default where none is set), so a rule an approved change
removed is really gone from the live system: what was voted no longer applies. The registry,
the counter and the embedded site all read them here, at each use, so a new release applies without a restart.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from civitas_kernel.addresses import normalise_address
from civitas_kernel.commands import CommandError
from civitas_kernel.live_release import VERIFIED, LiveRelease

log = logging.getLogger("civitas.rules")

__all__ = ["RULES_FILE", "REGISTRARS_FILE", "RulesFileError", "RulesInForce", "SiteRules", "parse_registrars",
           "parse_rules", "release_problems", "rules_in_force"]

RULES_FILE, REGISTRARS_FILE = "rules.toml", "registrars.toml"
MAX_REGISTRARS = 1000
_RULES = {  # table -> key -> (field, lowest, highest)
    "voter_list": {"trust_range_prefix": ("trust_range_prefix", 0, 20),
                   "pre_registration_min": ("pre_registration_min", 0, 1000)},
    "compile": {"every_minutes": ("compile_every_minutes", 0, 60 * 24 * 366),
                "jitter_percent": ("compile_jitter_percent", 0, 99)},
}


class RulesFileError(ValueError):
    """rules.toml or registrars.toml cannot be read; the message names the file, the key and the fix."""


@dataclass(frozen=True)
class SiteRules:
    trust_range_prefix: int = 0  # 0: trust counts everywhere
    pre_registration_min: int = 0
    compile_every_minutes: float = 60
    compile_jitter_percent: int = 25
    registrars: tuple[str, ...] = ()  # voters who may give primary trust, besides the site's operator
    source: str = "civitas's defaults"  # where these come from: "the live release <commit>" or "the settings"

    @property
    def compile_jitter(self) -> float:
        return self.compile_jitter_percent / 100

    @classmethod
    def from_settings(cls, settings) -> SiteRules:
        """Today's settings (CIVITAS_TRUST_RANGE_PREFIX, _PRE_REGISTRATION_MIN, _COMPILE_EVERY_MINUTES, _JITTER):
        what a process without a release runs by; a service reads only the ones it has."""
        return cls(trust_range_prefix=getattr(settings, "TRUST_RANGE_PREFIX", None) or 0,
                   pre_registration_min=getattr(settings, "PRE_REGISTRATION_MIN", 0),
                   compile_every_minutes=getattr(settings, "COMPILE_EVERY_MINUTES", 60),
                   compile_jitter_percent=round(getattr(settings, "COMPILE_JITTER", 0.25) * 100),
                   source="the settings")

    def as_dict(self) -> dict:
        return {"trust_range_prefix": self.trust_range_prefix, "pre_registration_min": self.pre_registration_min,
                "compile_every_minutes": self.compile_every_minutes,
                "compile_jitter_percent": self.compile_jitter_percent, "registrars": list(self.registrars),
                "source": self.source}


def _load(text: str, where: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RulesFileError(f"{where} is not valid TOML ({error}); fix the line it names") from None


def parse_rules(text: str, where: str = RULES_FILE) -> dict:
    """The rules the file states, by field; unknown tables and keys refused (a misspelt rule never falls back)."""
    table, found = _load(text, where), {}
    for name, values in table.items():
        keys = _RULES.get(name)
        if keys is None or not isinstance(values, dict):
            raise RulesFileError(f"{where}: unknown table [{name}]; it takes [{'] and ['.join(_RULES)}]")
        for key, value in values.items():
            if key not in keys:
                raise RulesFileError(f"{where}: [{name}] has no rule {key!r}; it takes {', '.join(keys)}")
            field, low, high = keys[key]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise RulesFileError(f"{where}: [{name}] {key} is a whole number from {low} to {high}, not {value!r}")
            found[field] = value
    return found


def parse_registrars(text: str, where: str = REGISTRARS_FILE) -> tuple[str, ...]:
    table = _load(text, where)
    if set(table) - {"registrars"}:
        raise RulesFileError(f"{where}: unknown key(s) {', '.join(sorted(set(table) - {'registrars'}))}; "
                             'it takes registrars = ["voter@example.org", ...]')
    listed = table.get("registrars", [])
    if not isinstance(listed, list) or not all(isinstance(a, str) for a in listed) or len(listed) > MAX_REGISTRARS:
        raise RulesFileError(f'{where}: registrars is a list of at most {MAX_REGISTRARS} email addresses, '
                             'like ["clerk@town.example"]')
    addresses = []
    for address in listed:
        try:
            addresses.append(normalise_address(address))
        except CommandError:
            raise RulesFileError(f"{where}: registrar {address!r} is not an email address; "
                                 "write it like clerk@town.example") from None
    return tuple(sorted(set(addresses)))


def rules_in_force(release: LiveRelease | None, settings: SiteRules) -> SiteRules:
    """The release's rules (its files; what they leave out, the settings), or `settings` without a release.
    A file that cannot be read raises RulesFileError: such a release is refused before it is served."""
    if release is None:
        return replace(settings, source="the settings")
    rules = replace(settings, source=f"the live release {release.commit}")
    text = release.read(RULES_FILE)
    if text is not None:
        rules = replace(rules, **parse_rules(text.decode("utf-8", errors="replace")))
    text = release.read(REGISTRARS_FILE)
    if text is not None:
        rules = replace(rules, registrars=parse_registrars(text.decode("utf-8", errors="replace")))
    return rules


def release_problems(release: LiveRelease) -> list[str]:
    """What in the release's rules and registrars cannot be read, each as a sentence (the release check)."""
    try:
        rules_in_force(release, SiteRules())
    except RulesFileError as error:
        return [str(error)]
    return []


class RulesInForce:
    """rules_in_force for a process: called at each use, worked out once per release. A release whose files cannot
    be read (it is refused, and rolled back) leaves the rules that were in force before it, and says so in the log."""

    def __init__(self, releases: Path | None, settings: SiteRules) -> None:
        self.releases, self.settings = releases, settings
        self._known: dict[str | None, SiteRules] = {}
        self._last = replace(settings, source="the settings")

    def __call__(self) -> SiteRules:
        release = LiveRelease.at(Path("."), releases=self.releases, link=VERIFIED) if self.releases is not None else None
        commit = release.commit if release else None
        found = self._known.get(commit)
        if found is None:
            try:
                found = rules_in_force(release, self.settings)
            except RulesFileError as error:
                log.error("the live release %s is refused: %s; the rules of %s stay in force", commit, error,
                          self._last.source)
                return self._last
            if len(self._known) > 16:
                self._known.clear()
            self._known[commit] = found
        self._last = found
        return found
