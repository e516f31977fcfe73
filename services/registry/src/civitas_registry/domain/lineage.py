"""A site's lineage and its voters' moves: who inherited from a parent chose to stay, who moved in or out, when.

Pure: folded from this site's registration stream; decisions check the rules and return the events to append.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from google.protobuf.message import Message

from civitas_kernel.commands import CommandError, ConflictError
from civitas_kernel.events import NewEvent
from civitas_schema.v1 import envelope_pb2, lineage_pb2

SITE_FORKED = lineage_pb2.SiteForked.DESCRIPTOR.full_name
INHERITANCE_CONFIRMED = lineage_pb2.InheritanceConfirmed.DESCRIPTOR.full_name
VOTER_MOVED_OUT = lineage_pb2.VoterMovedOut.DESCRIPTOR.full_name
MOVE_ACCEPTED = lineage_pb2.MoveAccepted.DESCRIPTOR.full_name
VOTER_MOVED_IN = lineage_pb2.VoterMovedIn.DESCRIPTOR.full_name
OPERATOR = "operator"
DAY_US = 86_400_000_000


class CoolingOffError(ConflictError):
    """A move sooner after the voter's last move than the site's cooling-off period allows."""


class MoveRefused(CommandError):
    """A move this site does not take; the message says why."""


@dataclass(frozen=True)
class Move:
    direction: str  # "out" (left this site) or "in" (arrived here)
    site: str  # where to, or where from
    at_us: int  # the time the statement names
    statement: bytes = b""  # own hash of the move statement (VoterMovedOut at the site left)
    received: int = 0  # trust edges others gave the voter at the site they came from: evidence here


@dataclass
class LineageState:
    parent: str | None = None  # the site this one was forked from
    parent_key: bytes = b""
    heads: list[bytes] = field(default_factory=list)  # the parent's signed checkpoints of the cut
    live_commit: str = ""
    confirmed: dict[str, None] = field(default_factory=dict)  # inherited voters who chose this site, in order
    accepted: dict[str, set[str]] = field(default_factory=dict)  # voter -> sites they asked to be let in from
    moves: dict[str, list[Move]] = field(default_factory=dict)  # voter -> their moves, oldest first
    arrived: set[bytes] = field(default_factory=set)  # statements recorded here (each once)

    def evolve(self, type: str, message: Message, actor: str) -> None:
        if type == SITE_FORKED:
            self.parent, self.parent_key = message.parent, bytes(message.parent_key)
            self.heads, self.live_commit = [bytes(h) for h in message.heads], message.live_commit
        elif type == INHERITANCE_CONFIRMED:
            self.confirmed[message.voter] = None
        elif type == MOVE_ACCEPTED:
            self.accepted.setdefault(message.voter, set()).add(message.from_site)
        elif type == VOTER_MOVED_OUT:
            self.moves.setdefault(message.voter, []).append(Move("out", message.to_site, message.moved_at_us))
        elif type == VOTER_MOVED_IN:
            self.accepted.get(message.voter, set()).discard(message.from_site)
            sealed = envelope_pb2.SealedEvent.FromString(message.statement)
            body = envelope_pb2.Envelope.FromString(sealed.envelope).body
            received = len(lineage_pb2.VoterMovedOut.FromString(body).received)
            self.moves.setdefault(message.voter, []).append(
                Move("in", message.from_site, message.moved_at_us, sealed.hash, received))
            self.arrived.add(sealed.hash)

    def moved_to(self, voter: str) -> str | None:
        """Where the voter moved to, if their last move took them away from here."""
        moves = self.moves.get(voter)
        return moves[-1].site if moves and moves[-1].direction == "out" else None


def check_cooling_off(state: LineageState, voter: str, now_us: int, cooling_off_us: int) -> None:
    """A voter moves again only once the cooling-off period since their last move has passed."""
    moves = state.moves.get(voter)
    if not moves:
        return
    last = max(m.at_us for m in moves)
    if now_us - last < cooling_off_us:
        days = cooling_off_us / DAY_US
        left_h = (cooling_off_us - (now_us - last)) / 3_600_000_000
        raise CoolingOffError(f"{voter} moved less than {days:g} days ago (to or from {moves[-1].site}); a voter "
                              f"may move again once the cooling-off period has passed, in {left_h:.1f} hours")


def decide_move_out(state: LineageState, here: str, voter: str, to_site: str, to_key: bytes, now_us: int,
                    cooling_off_us: int, events: list[bytes], received: list[bytes]) -> list[NewEvent]:
    """The voter's move statement: recorded here at their request, naming their events by hash."""
    if to_site == here:
        raise MoveRefused(f"you are registered on {here} already; name the site you are moving to")
    gone = state.moved_to(voter)
    if gone is not None:
        raise MoveRefused(f"{voter} moved from {here} to {gone} already; move from there")
    check_cooling_off(state, voter, now_us, cooling_off_us)
    return [NewEvent.of(lineage_pb2.VoterMovedOut(voter=voter, to_site=to_site, to_key=to_key, moved_at_us=now_us,
                                                  events=events, received=received), voter)]


def decide_accept(state: LineageState, here: str, voter: str, from_site: str) -> list[NewEvent]:
    """A voter signed in here asks to be let in from `from_site`: their proof of control of the address here."""
    if from_site == here:
        raise MoveRefused(f"this is {here}; name the site you are moving from")
    if from_site in state.accepted.get(voter, ()):
        return []
    return [NewEvent.of(lineage_pb2.MoveAccepted(voter=voter, from_site=from_site), voter)]


def check_arrival(state: LineageState, voter: str, from_site: str, statement_hash: bytes, moved_at_us: int,
                  cooling_off_us: int) -> None:
    """May the voter's statement from `from_site` be recorded here?"""
    if statement_hash in state.arrived:
        raise ConflictError(f"{voter}'s move from {from_site} is recorded here already")
    if from_site not in state.accepted.get(voter, ()):
        raise MoveRefused(f"{voter} has not asked this site to let them in from {from_site}: sign in here and "
                          f"run `register accept-move {from_site}` first")
    check_cooling_off(state, voter, moved_at_us, cooling_off_us)


def decide_confirm(state: LineageState, voter: str, carried: list[bytes]) -> list[NewEvent]:
    """An inherited voter chooses this fork; the events after this one carry their parent's facts."""
    if state.parent is None:
        raise MoveRefused("this site is not a fork: there is nothing inherited to confirm")
    if voter in state.confirmed:
        raise ConflictError(f"{voter} confirmed already; their inherited registration counts here")
    if not carried:
        raise MoveRefused(f"{voter} has no registration or trust on {state.parent} up to the fork's cut; "
                          "register here as a new voter instead")
    return [NewEvent.of(lineage_pb2.InheritanceConfirmed(voter=voter, parent=state.parent, events=carried), voter)]
