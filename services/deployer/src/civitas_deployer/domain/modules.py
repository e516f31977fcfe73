"""modules.toml: which module each path of the live repository belongs to.

    [modules.pages]
    paths = ["pages/"]

A path belongs to the module whose pattern matches it most specifically (see patterns.py); a path no
pattern matches belongs to `site`. A proposal is tallied in every module it touches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from civitas_deployer.domain.patterns import Pattern, PatternError
from civitas_deployer.domain.rules import RulesError, load_toml

SITE = "site"  # the module of every path that no pattern names
EVERY_MODULE = "*"  # the delegation scope that stands for every module
MODULE_NAME = re.compile(r"[a-z][a-z0-9-]{0,39}")
RESERVED = {"none", "all"}  # words of the delegate command, never module names
MODULE_KEYS = {"paths", "title"}


@dataclass(frozen=True)
class Modules:
    names: tuple[str, ...]  # sorted, `site` among them
    _by_specificity: tuple[tuple[Pattern, str], ...]  # most specific first

    def module_of(self, path: str) -> str:
        for pattern, module in self._by_specificity:
            if pattern.matches(path):
                return module
        return SITE

    def modules_of(self, paths: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted({self.module_of(p) for p in paths}))

    def __contains__(self, name: str) -> bool:
        return name in self.names


def parse_modules(text: str, *, where: str = "modules.toml") -> Modules:
    table = load_toml(text, where)
    unknown = set(table) - {"modules"}
    if unknown:
        raise RulesError(f"{where}: unknown table(s) {', '.join(sorted(unknown))}; "
                         "it takes [modules.NAME] tables, each with paths = [...]")
    declared = table.get("modules", {})
    if not isinstance(declared, dict):
        raise RulesError(f"{where}: modules must be tables, written [modules.NAME]")
    owner: dict[str, str] = {}
    entries: list[tuple[Pattern, str]] = []
    for name, module in sorted(declared.items()):
        if not MODULE_NAME.fullmatch(name) or name in RESERVED:
            raise RulesError(f"{where}: module name {name!r} must be lower-case letters, digits and '-', "
                             f"starting with a letter, and not {' or '.join(sorted(RESERVED))}")
        if not isinstance(module, dict) or set(module) - MODULE_KEYS:
            raise RulesError(f"{where}: [modules.{name}] takes only {', '.join(sorted(MODULE_KEYS))}")
        paths = module.get("paths", [])
        if not isinstance(paths, list) or (not paths and name != SITE):
            raise RulesError(f"{where}: [modules.{name}] paths must be a non-empty list of patterns, like [\"pages/\"]")
        for text_ in paths:
            try:
                pattern = Pattern(text_)
            except PatternError as error:
                raise RulesError(f"{where}: [modules.{name}] {error}") from None
            if text_ in owner:
                raise RulesError(f"{where}: pattern {text_!r} belongs to both {owner[text_]} and {name}; "
                                 "keep it in one")
            owner[text_] = name
            entries.append((pattern, name))
    entries.sort(key=lambda e: e[0].specificity, reverse=True)
    return Modules(tuple(sorted(set(declared) | {SITE})), tuple(entries))
