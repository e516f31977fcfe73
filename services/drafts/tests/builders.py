"""A folded draft state driven through the domain's decisions, as the command layer drives it."""

from __future__ import annotations

from civitas_kernel.events import NewEvent, decode_body

from civitas_drafts.domain.decisions import (
    decide_amend, decide_post, decide_version, decide_vote, first_version, next_version,
)
from civitas_drafts.domain.groups import Group, Member
from civitas_drafts.domain.numbers import UNIT
from civitas_drafts.domain.state import DraftState

ALICE, BOB, CAROL, DAVE = "alice@example.org", "bob@example.org", "carol@example.org", "dave@example.org"


class Board:
    def __init__(self) -> None:
        self.state = DraftState()
        self.events: list[NewEvent] = []
        self.clock = 0

    def apply(self, event: NewEvent) -> None:
        self.events.append(event)
        self.state.evolve(event.type, decode_body(event.type, event.body), event.actor)

    def tick(self) -> int:
        self.clock += 1
        return self.clock

    def create(self, author: str = ALICE, *, nickname: str | None = None, weight: int = 5, name: str = "Town hall",
               others: tuple[Member, ...] = (), **settings) -> str:
        version = first_version(author, name, nickname or author.split("@")[0], weight=weight,
                                made_at_us=self.tick(), **settings)
        if others:
            version = version.__class__(**{**version.__dict__, "members": version.members + others})
        event, gid = decide_version(self.state, version)
        self.apply(event)
        return gid

    def group(self, gid: str) -> Group:
        return self.state.group(gid)

    def change(self, gid: str, author: str, **changes) -> None:
        """A version of gid by author: members=(Member, ...), removed=(voter, ...), name=, others_weight=, ..."""
        event, _ = decide_version(self.state, next_version(self.group(gid), author, made_at_us=self.tick(), **changes))
        self.apply(event)

    def join(self, gid: str, voter: str, weight: int = 1, nickname: str | None = None) -> None:
        self.change(gid, voter, members=(Member(voter, nickname or voter.split("@")[0], weight),))

    def post(self, gid: str, author: str, *texts: str, **reply) -> str:
        event, pid = decide_post(self.state, author, gid, list(texts or ["A paragraph."]), now_us=self.tick(),
                                 **reply)
        self.apply(event)
        return pid

    def amend(self, pid: str, author: str, *texts: str) -> str:
        event, changed = decide_amend(self.state, author, pid, list(texts), now_us=self.tick())
        self.apply(event)
        return changed

    def vote(self, gid: str, voter: str, pid: str, value: float = 1, paragraph: str = "") -> None:
        self.apply(decide_vote(self.state, voter, gid, pid, round(value * UNIT), paragraph))
