"""How every voter's vote resolves in a module: their own ballot, or the delegation that applies there.

A voter's vote in module M is their own vote on the current revision if they cast one; otherwise their
delegation for M if they have one (`none` included, which blocks a broader one), else their delegation
for `*`. A single delegate's vote is that delegate's resolved vote in M, transitively; several delegates
give their common vote when all of them resolve and agree, and nothing otherwise. A voter whose chain
returns to a voter already on it gets nothing, and so does every voter whose vote waits on one of those.

This is the least fixed point of those rules, found in time linear in voters plus delegation links: a
voter is decided once all their delegates are (depth first, without recursion); a voter whose walk meets
itself, or someone waiting on a cycle, waits on a cycle and gets nothing, and the strongly connected parts
among those (Tarjan's algorithm, without recursion) are the cycles themselves. Voters are numbered once
and the work is done on lists of small integers, what is common to every module (ballots, delegations
for `*` alone) only once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
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

Delegations = Mapping[str, Mapping[str, tuple[str, ...]]]  # voter -> scope -> delegates (NONE for `none`)

VOTES = (None, YES, NO, ABSTAIN)  # vote codes: 0 counts in no column
_VOTE_CODE = {YES: 1, NO: 2, ABSTAIN: 3}
HOWS = (ABSENT, DIRECT, DELEGATED, BLOCKED, CYCLE, DISAGREE, UNRESOLVED)
_ABSENT, _DIRECT, _DELEGATED, _BLOCKED, _CYCLE, _DISAGREE, _UNRESOLVED = range(len(HOWS))
_PENDING, _VISITING, _STUCK = -1, -2, -3  # while resolving: not reached yet, on the walk's path, waiting on a cycle
_OUTSIDE = -1  # the number of a delegate outside the electorate: neither votes nor passes a vote on
_SEVERAL = -2  # in place of a delegate's number: the voter has several


class Resolution(NamedTuple):
    vote: str | None  # yes, no, abstain; None: this voter's vote counts in no column
    how: str
    scope: str = ""  # the scope of the delegation that applied: the module, "*", or "" for none
    via: tuple[str, ...] = ()  # the delegates followed (each one's own resolution continues the chain)


class ModuleResolutions(Mapping):
    """Every electorate voter's Resolution in one module, built from the compact lists only when asked for."""

    __slots__ = ("_index", "vote_codes", "_how", "_scope", "_via")

    def __init__(self, index: dict[str, int], votes: list[int], how: list[int], scope: list, via: list) -> None:
        self._index, self.vote_codes, self._how, self._scope, self._via = index, votes, how, scope, via

    def __getitem__(self, voter: str) -> Resolution:
        i = self._index[voter]
        return Resolution(VOTES[self.vote_codes[i]], HOWS[self._how[i]], self._scope[i] or "", self._via[i] or ())

    def __contains__(self, voter: object) -> bool:
        return voter in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def count(self, vote: str) -> int:
        return self.vote_codes.count(_VOTE_CODE[vote])

    def lines(self, voters: Iterable[str]) -> Iterator[str]:
        """voter<TAB>vote<TAB>how<TAB>scope<TAB>via for each of `voters` (all in the electorate), without
        building a Resolution for each."""
        index, votes, how, scope, via = self._index, self.vote_codes, self._how, self._scope, self._via
        vote_text = tuple(v or "" for v in VOTES)
        for voter in voters:
            i = index[voter]
            delegates = via[i]
            yield (f"{voter}\t{vote_text[votes[i]]}\t{HOWS[how[i]]}\t{scope[i] or ''}\t"
                   f"{','.join(delegates) if delegates else ''}")


class _Electorate:
    """What every module shares: voters' numbers, their ballots, and the delegations for `*` alone, which
    apply alike in every module. Few objects are made per voter: a site's whole delegation graph is live,
    and every container made would have the collector walk it again."""

    def __init__(self, electorate: frozenset[str], ballots: Mapping[str, str], delegations: Delegations) -> None:
        self.index = {voter: i for i, voter in enumerate(electorate)}
        n, index = len(self.index), self.index
        self.votes, self.how = [0] * n, [_ABSENT] * n
        for voter, choice in ballots.items():
            i = index.get(voter)
            if i is not None:
                self.votes[i], self.how[i] = _VOTE_CODE[choice], _DIRECT
        self.scope: list[str | None] = [None] * n
        self.via: list[tuple[str, ...] | None] = [None] * n
        self.target = [_OUTSIDE] * n  # a single delegate's number; _SEVERAL: see several[i]
        self.several: dict[int, tuple[int, ...]] = {}
        self.pending: list[int] = []  # whose vote waits on their delegates'
        self.per_module: list[tuple[int, Mapping[str, tuple[str, ...]]]] = []  # delegations that differ by module
        for voter, mine in delegations.items():
            i = index.get(voter)
            if i is None or not mine or self.how[i] == _DIRECT:
                continue
            if len(mine) == 1 and "*" in mine:
                self._apply(i, "*", mine["*"], self.how, self.scope, self.via, self.target, self.several, self.pending)
            else:
                self.per_module.append((i, mine))

    def _apply(self, i: int, scope: str, via: tuple[str, ...], how: list[int], scope_of: list, via_of: list,
               target: list[int], several: dict[int, tuple[int, ...]], pending: list[int]) -> None:
        scope_of[i], via_of[i] = scope, via
        if not via:
            how[i] = _BLOCKED
            return
        how[i] = _PENDING
        pending.append(i)
        if len(via) == 1:
            target[i] = self.index.get(via[0], _OUTSIDE)
        else:
            target[i] = _SEVERAL
            several[i] = tuple(self.index.get(d, _OUTSIDE) for d in via)

    def resolve(self, module: str) -> ModuleResolutions:
        votes, how, scope_of, via_of = self.votes[:], self.how[:], self.scope[:], self.via[:]
        target, several, pending = self.target[:], dict(self.several), self.pending[:]
        for i, mine in self.per_module:
            scope = module if module in mine else "*" if "*" in mine else None
            if scope is not None:
                self._apply(i, scope, mine[scope], how, scope_of, via_of, target, several, pending)
        _settle(pending, target, several, votes, how)
        return ModuleResolutions(self.index, votes, how, scope_of, via_of)


def _settle(pending: list[int], target: list[int], several: dict[int, tuple[int, ...]], votes: list[int],
            how: list[int]) -> None:
    """Decide every pending voter after their delegates, walking the delegation graph depth first without
    recursion. A walk that meets a voter still on its own path has found a cycle: every voter it decides
    from there on waits on that cycle and is marked stuck, to be labelled by _label_cycles."""
    path: list[int] = []  # the walk's voters, each waiting on the next; empty again after every walk
    for start in pending:
        if how[start] != _PENDING:
            continue
        how[start] = _VISITING
        path.append(start)
        while path:
            i = path[-1]
            j = target[i]
            if j != _SEVERAL:  # the common case, one delegate, without building a set
                if j >= 0 and how[j] == _PENDING:
                    how[j] = _VISITING
                    path.append(j)
                    continue
                if j < 0:
                    vote, outcome = 0, _UNRESOLVED
                elif how[j] == _VISITING or how[j] == _STUCK:
                    vote, outcome = 0, _STUCK
                else:
                    vote = votes[j]
                    outcome = _DELEGATED if vote else _UNRESOLVED
                # everyone below on the path with one delegate follows the one above: the same outcome
                while path and target[path[-1]] != _SEVERAL:
                    i = path.pop()
                    votes[i], how[i] = vote, outcome
                continue
            delegates = several[i]
            undecided = next((j for j in delegates if j >= 0 and how[j] == _PENDING), None)
            if undecided is not None:
                how[undecided] = _VISITING
                path.append(undecided)
                continue
            path.pop()
            if any(j >= 0 and (how[j] == _VISITING or how[j] == _STUCK) for j in delegates):
                how[i] = _STUCK
                continue
            found = {votes[j] if j >= 0 else 0 for j in delegates}
            if 0 in found:
                how[i] = _UNRESOLVED
            elif len(found) > 1:
                how[i] = _DISAGREE
            else:
                votes[i], how[i] = found.pop(), _DELEGATED
    stuck = [i for i in pending if how[i] == _STUCK]
    if stuck:
        _label_cycles(stuck, target, several, how)


def _label_cycles(stuck: list[int], target: list[int], several: dict[int, tuple[int, ...]], how: list[int]) -> None:
    """Every voter left waits on a cycle and gets nothing: those on one (a strongly connected part of the
    delegation graph, found by Tarjan's algorithm without recursion) are marked cycle, the rest unresolved."""
    def delegates_of(i: int) -> tuple[int, ...]:
        return several[i] if target[i] == _SEVERAL else (target[i],)

    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    for root in stuck:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(delegates_of(root)))]
        while work:
            voter, delegates = work[-1]
            descended = False
            for j in delegates:
                if j < 0 or how[j] != _STUCK:
                    continue  # decided, and not waiting on a cycle
                if j not in index:
                    index[j] = low[j] = len(index)
                    stack.append(j)
                    on_stack.add(j)
                    work.append((j, iter(delegates_of(j))))
                    descended = True
                    break
                if j in on_stack and index[j] < low[voter]:
                    low[voter] = index[j]
            if descended:
                continue
            work.pop()
            if work and low[voter] < low[work[-1][0]]:
                low[work[-1][0]] = low[voter]
            if low[voter] != index[voter]:
                continue
            members = [stack.pop()]
            while members[-1] != voter:
                members.append(stack.pop())
            on_stack.difference_update(members)
            label = _CYCLE if len(members) > 1 or voter in delegates_of(voter) else _UNRESOLVED
            for member in members:
                how[member] = label


def resolve_modules(
    modules: Iterable[str], electorate: frozenset[str], ballots: Mapping[str, str], delegations: Delegations
) -> dict[str, ModuleResolutions]:
    """module -> every electorate voter's Resolution there. `ballots` are the direct votes on the current revision."""
    shared = _Electorate(electorate, ballots, delegations)
    return {module: shared.resolve(module) for module in modules}


def resolve_module(
    module: str, electorate: frozenset[str], ballots: Mapping[str, str], delegations: Delegations
) -> ModuleResolutions:
    return resolve_modules((module,), electorate, ballots, delegations)[module]


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
