"""How every voter's vote resolves in one module: their own ballot, or the delegation that applies there.

A voter's vote in module M is their own vote on the current revision if they cast one; otherwise their
delegation for M if they have one (`none` included, which blocks a broader one), else their delegation
for `*`. A single delegate's vote is that delegate's resolved vote in M, transitively; several delegates
give their common vote when all of them resolve and agree, and nothing otherwise. A voter whose chain
returns to a voter already on it gets nothing, and so does every voter whose vote waits on one of those.

This is the least fixed point of those rules, found in time linear in voters plus delegation links: the
strongly connected parts of the delegation graph (Tarjan's algorithm, without recursion) are cycles
and yield nothing; everything else is decided in the order Tarjan finishes it, delegates first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

YES, NO, ABSTAIN = "yes", "no", "abstain"
CHOICES = (YES, NO, ABSTAIN)
NONE: tuple[str, ...] = ()  # the delegation `none`

# How a vote resolved (Resolution.how)
DIRECT = "direct"  # the voter's own ballot on the current revision
DELEGATED = "delegated"  # the vote of the delegate(s), all agreeing
BLOCKED = "none"  # `delegate SCOPE none` where it applies: no vote
ABSENT = "absent"  # no ballot and no delegation that applies
CYCLE = "cycle"  # the chain returns to a voter already on it
DISAGREE = "disagree"  # several delegates, resolving to different votes
UNRESOLVED = "unresolved"  # a delegate's vote resolves to nothing
OUTSIDE = "outside"  # a delegate outside the electorate: neither votes nor passes a vote on

Delegations = Mapping[str, Mapping[str, tuple[str, ...]]]  # voter -> scope -> delegates (NONE for `none`)


class Resolution(NamedTuple):
    vote: str | None  # yes, no, abstain; None: this voter's vote counts in no column
    how: str
    scope: str = ""  # the scope of the delegation that applied: the module, "*", or "" for none
    via: tuple[str, ...] = ()  # the delegates followed (each one's own resolution continues the chain)


OUTSIDE_ELECTORATE = Resolution(None, OUTSIDE)
_ABSENT = Resolution(None, ABSENT)


def applicable(delegations: Delegations, voter: str, module: str) -> tuple[str, tuple[str, ...]] | None:
    """(scope, delegates) of the voter's delegation that applies in `module`, or None."""
    mine = delegations.get(voter)
    if not mine:
        return None
    if module in mine:
        return module, mine[module]
    if "*" in mine:
        return "*", mine["*"]
    return None


def resolve_module(
    module: str, electorate: frozenset[str], ballots: Mapping[str, str], delegations: Delegations
) -> dict[str, Resolution]:
    """Every electorate voter's Resolution in `module`. `ballots` are the direct votes on the current revision."""
    resolved: dict[str, Resolution] = {}
    pending: dict[str, tuple[str, tuple[str, ...]]] = {}  # voters whose vote waits on delegates
    for voter in electorate:
        choice = ballots.get(voter)
        if choice is not None:
            resolved[voter] = Resolution(choice, DIRECT)
            continue
        found = applicable(delegations, voter, module)
        if found is None:
            resolved[voter] = _ABSENT
        elif not found[1]:
            resolved[voter] = Resolution(None, BLOCKED, found[0])
        else:
            pending[voter] = found
    _resolve_pending(pending, resolved)
    return resolved


def _resolve_pending(pending: dict[str, tuple[str, tuple[str, ...]]], resolved: dict[str, Resolution]) -> None:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    counter = 0
    for root in pending:
        if root in index:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(pending[root][1]))]
        while work:
            voter, delegates = work[-1]
            descended = False
            for delegate in delegates:
                if delegate not in pending:
                    continue  # decided already, or outside the electorate
                if delegate not in index:
                    index[delegate] = low[delegate] = counter
                    counter += 1
                    stack.append(delegate)
                    on_stack.add(delegate)
                    work.append((delegate, iter(pending[delegate][1])))
                    descended = True
                    break
                if delegate in on_stack and index[delegate] < low[voter]:
                    low[voter] = index[delegate]
            if descended:
                continue
            work.pop()
            if work and low[voter] < low[work[-1][0]]:
                low[work[-1][0]] = low[voter]
            if low[voter] != index[voter]:
                continue
            member = stack.pop()
            on_stack.discard(member)
            if member == voter and voter not in pending[voter][1]:
                resolved[voter] = _combine(pending[voter], resolved)
                continue
            scope, via = pending[member]
            resolved[member] = Resolution(None, CYCLE, scope, via)
            while member != voter:
                member = stack.pop()
                on_stack.discard(member)
                scope, via = pending[member]
                resolved[member] = Resolution(None, CYCLE, scope, via)


def _combine(delegation: tuple[str, tuple[str, ...]], resolved: dict[str, Resolution]) -> Resolution:
    scope, via = delegation
    votes = {resolved.get(delegate, OUTSIDE_ELECTORATE).vote for delegate in via}
    if None in votes:
        return Resolution(None, UNRESOLVED, scope, via)
    if len(votes) > 1:
        return Resolution(None, DISAGREE, scope, via)
    return Resolution(votes.pop(), DELEGATED, scope, via)


def chain(resolutions: Mapping[str, Resolution], voter: str) -> list[str]:
    """The path of a voter's vote: voter, delegate, ... ending where it resolves or stops.

    Several delegates appear as one step "a+b"; the walk stops there, at a direct voter, or at a repeat.
    """
    path, seen = [voter], {voter}
    current = resolutions.get(voter)
    while current is not None and current.via:
        if len(current.via) > 1:
            path.append("+".join(current.via))
            break
        nxt = current.via[0]
        path.append(nxt)
        if nxt in seen:
            break
        seen.add(nxt)
        current = resolutions.get(nxt)
    return path
