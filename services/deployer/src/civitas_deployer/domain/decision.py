"""The decision on a proposal's revision: its tally in every module it touches, under the rules at its base.

Pure: the same subject, rules, electorate, ballots and delegations give the same decision on every
machine. "Approved" exists only as the output of `decide`; nothing else can make it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

from civitas_deployer.domain.modules import Modules
from civitas_deployer.domain.resolve import (
    ABSTAIN, CHOICES, NO, YES, Delegations, ModuleResolutions, resolve_modules,
)
from civitas_deployer.domain.rules import Governance, Thresholds


class Ballot(NamedTuple):
    voter: str
    content_hash: str  # the revision it was cast on; it counts only for that content
    choice: str  # yes, no or abstain


@dataclass(frozen=True)
class Subject:
    """The revision being decided."""

    proposal: str
    revision: int
    content_hash: str
    base_commit: str
    changed_paths: tuple[str, ...]


@dataclass(frozen=True)
class ModuleTally:
    module: str
    yes: int
    no: int
    abstain: int
    electorate: int
    quorum_met: bool
    majority_met: bool
    resolutions: ModuleResolutions  # every electorate voter's vote in this module, and how it resolved

    @property
    def approved(self) -> bool:
        return self.quorum_met and self.majority_met


@dataclass(frozen=True)
class Decision:
    subject: Subject
    constitutional: bool  # a changed path is constitutional, so the [constitutional] thresholds apply
    thresholds: Thresholds
    electorate: int
    path_modules: tuple[tuple[str, str], ...]  # (changed path, its module), by path
    tallies: tuple[ModuleTally, ...]  # by module name

    @property
    def approved(self) -> bool:
        return bool(self.tallies) and all(t.approved for t in self.tallies)


def quorum_met(cast: int, electorate: int, quorum: Fraction) -> bool:
    return cast * quorum.denominator >= quorum.numerator * electorate


def majority_met(yes: int, no: int, thresholds: Thresholds) -> bool:
    need = thresholds.majority.numerator * (yes + no)
    have = yes * thresholds.majority.denominator
    return yes > 0 and (have > need if thresholds.strict else have >= need)


def direct_votes(ballots: Iterable[Ballot], content_hash: str) -> dict[str, str]:
    """voter -> choice of the ballots cast on `content_hash`; a ballot on any other content never counts."""
    direct: dict[str, str] = {}
    for ballot in ballots:
        if ballot.content_hash != content_hash:
            continue
        if ballot.choice not in CHOICES:
            raise ValueError(f"a ballot's choice is yes, no or abstain, not {ballot.choice!r}")
        if ballot.voter in direct:
            raise ValueError(f"two ballots of {ballot.voter} on one revision; a voter holds one ballot")
        direct[ballot.voter] = ballot.choice
    return direct


def tally_module(module: str, resolutions: ModuleResolutions, thresholds: Thresholds) -> ModuleTally:
    yes, no, abstain = resolutions.count(YES), resolutions.count(NO), resolutions.count(ABSTAIN)
    electorate = len(resolutions)
    return ModuleTally(module, yes, no, abstain, electorate, quorum_met(yes + no + abstain, electorate,
                       thresholds.quorum), majority_met(yes, no, thresholds), resolutions)


def decide(
    subject: Subject,
    rules: Governance,
    modules: Modules,
    electorate: frozenset[str],
    ballots: Iterable[Ballot],
    delegations: Delegations,
) -> Decision:
    """Tally the subject in each module it touches; `rules` and `modules` are those at its base commit."""
    direct = direct_votes(ballots, subject.content_hash)
    constitutional = any(rules.is_constitutional(path) for path in subject.changed_paths)
    thresholds = rules.thresholds(constitutional)
    path_modules = tuple((path, modules.module_of(path)) for path in sorted(set(subject.changed_paths)))
    touched = sorted({module for _, module in path_modules})
    resolved = resolve_modules(touched, electorate, direct, delegations)
    tallies = tuple(tally_module(m, resolved[m], thresholds) for m in touched)
    return Decision(subject, constitutional, thresholds, len(electorate), path_modules, tallies)
