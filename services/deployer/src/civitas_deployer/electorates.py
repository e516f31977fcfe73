"""Where the deployer's commands find voter lists and the rules at a commit, each read once and kept.

Voter lists are immutable records and commits never change, so both are cached by their name.
"""

from __future__ import annotations

from typing import Protocol

from civitas_kernel.commands import ForbiddenError
from civitas_kernel.voter_list import VoterList

from civitas_deployer.domain.electorate import electorate
from civitas_deployer.domain.modules import Modules, parse_modules
from civitas_deployer.domain.rules import Governance, RulesError, parse_governance
from civitas_deployer.live_repo import LiveRepository


class VoterLists(Protocol):
    """The voter list records: the one reported now, and any earlier one by its name (e.g. "list 3")."""

    def reported(self) -> tuple[str, VoterList] | None: ...

    def get(self, name: str) -> VoterList: ...


class NotEligibleError(ForbiddenError):
    """The voter may not do this: not on the voter list, barred, or below the rules' min_trust."""


class Rules:
    """governance.toml and modules.toml at a commit of the live repository, parsed."""

    def __init__(self, repo: LiveRepository) -> None:
        self.repo = repo
        self._at: dict[str, tuple[Governance, Modules]] = {}

    def at(self, commit: str) -> tuple[Governance, Modules]:
        if commit not in self._at:
            self._at[commit] = self.parse(self.repo.read(commit, "governance.toml"),
                                          self.repo.read(commit, "modules.toml"), f"at {commit[:12]}")
        return self._at[commit]

    @staticmethod
    def parse(governance: bytes | None, modules: bytes | None, where: str) -> tuple[Governance, Modules]:
        for name, text in (("governance.toml", governance), ("modules.toml", modules)):
            if text is None:
                raise RulesError(f"there is no {name} {where}; the site cannot decide anything without it — "
                                 "restore it in the live repository")
        return (parse_governance(governance.decode(errors="replace"), where=f"governance.toml {where}"),
                parse_modules(modules.decode(errors="replace"), where=f"modules.toml {where}"))


class Electorates:
    def __init__(self, lists: VoterLists) -> None:
        self.lists = lists
        self._voters: dict[tuple[str, int], frozenset[str]] = {}

    def reported(self) -> tuple[str, VoterList]:
        found = self.lists.reported()
        if found is None:
            raise NotEligibleError("no voter list is reported yet, so no one can propose or vote; "
                                   "compile and report a voter list first")
        return found

    def of(self, list_name: str, rules: Governance) -> frozenset[str]:
        """The voters of that list who may vote under `rules` (activity is judged at the close, not here)."""
        key = (list_name, rules.min_trust)
        if key not in self._voters:
            entries = self.lists.get(list_name).entries
            self._voters[key] = electorate(((e.voter, e.trust_level, e.bar) for e in entries), rules)
        return self._voters[key]

    @staticmethod
    def why_not(voters: VoterList, voter: str, rules: Governance, list_name: str) -> str:
        """Why `voter` may not vote by `voters`, in words; empty when they may."""
        entry = voters.get(voter)
        if entry is None:
            return f"{voter} is not on the voter list ({list_name})"
        if entry.bar:
            return f"{voter} is barred on the voter list ({list_name}): {entry.bar}"
        if entry.trust_level < rules.min_trust:
            return f"{voter} has trust level {entry.trust_level}, below the rules' min_trust {rules.min_trust}"
        return ""
