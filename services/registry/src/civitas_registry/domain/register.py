"""The voter register: its state folded from events, and the decisions of its commands.

Decisions are pure: `decide_*(state, ...)` checks the command with `check_*` guards (raising the
errors defined here, before anything is written) and returns the events to append; an empty
list means the register already says so and nothing needs writing. Addresses arrive normalised.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from google.protobuf.message import Message

from civitas_kernel.commands import CommandError, ForbiddenError
from civitas_kernel.events import NewEvent
from civitas_kernel.lookalikes import skeleton
from civitas_schema.v1 import doubt_pb2, registration_pb2, trust_pb2

from civitas_registry.domain.values import check_attribute, check_reason, check_value

REGISTRAR = "registrar"  # the actor of primary trust: the site, root of the trust network
MAX_PRIMARY_EDGES = 1000

ATTRIBUTE_SET = registration_pb2.AttributeSet.DESCRIPTOR.full_name
ATTRIBUTE_UNSET = registration_pb2.AttributeUnset.DESCRIPTOR.full_name
TRUST_EXTENDED = trust_pb2.TrustExtended.DESCRIPTOR.full_name
TRUST_WITHDRAWN = trust_pb2.TrustWithdrawn.DESCRIPTOR.full_name
PRIMARY_EXTENDED = trust_pb2.PrimaryTrustExtended.DESCRIPTOR.full_name
PRIMARY_WITHDRAWN = trust_pb2.PrimaryTrustWithdrawn.DESCRIPTOR.full_name
DOUBT_RAISED = doubt_pb2.DoubtRaised.DESCRIPTOR.full_name
DOUBT_WITHDRAWN = doubt_pb2.DoubtWithdrawn.DESCRIPTOR.full_name


class SelfTrustError(CommandError):
    """Trust (or doubt) aimed at oneself."""


class AlterForbiddenError(ForbiddenError):
    """`--alter` on a registrant who controls their own attributes, or by a voter not trusted enough."""


class LookalikeError(CommandError):
    """An address that looks like a registered voter's."""


class PrimaryEdgesError(CommandError):
    """A number of primary edges the registrar cannot extend."""


@dataclass
class RegisterState:
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)  # voter -> attribute -> value
    self_registered: set[str] = field(default_factory=set)  # who changed their own attributes at least once
    trusts: dict[str, dict[str, None]] = field(default_factory=dict)  # truster -> trustees, in order extended
    primary: dict[str, int] = field(default_factory=dict)  # voter -> primary edges from the registrar
    doubts: dict[str, dict[str, str]] = field(default_factory=dict)  # doubter -> doubted -> reason
    # The same edges seen from their other end, so "who trusts me" costs no scan of every edge.
    trusted_in: dict[str, dict[str, None]] = field(default_factory=dict)  # trustee -> trusters
    doubted_in: dict[str, dict[str, None]] = field(default_factory=dict)  # doubted -> doubters
    registrants: dict[str, str] = field(default_factory=dict)  # everyone named by an event (one str object each)
    # skeleton -> the first registered voter with it (UTS #39), built on first need, then kept up to date
    _skeletons: dict[str, str] | None = field(default=None, repr=False, compare=False)

    def _named(self, address: str) -> str:
        return self.registrants.setdefault(address, address)

    def evolve(self, type: str, message: Message, actor: str) -> None:
        """Fold one event of the registration, trust or doubt stream into the state."""
        if type == TRUST_EXTENDED:
            truster, trustee = self._named(message.truster), self._named(message.trustee)
            self.trusts.setdefault(truster, {})[trustee] = None
            self.trusted_in.setdefault(trustee, {})[truster] = None
        elif type == TRUST_WITHDRAWN:
            self.trusts.get(message.truster, {}).pop(message.trustee, None)
            self.trusted_in.get(message.trustee, {}).pop(message.truster, None)
        elif type == ATTRIBUTE_SET or type == ATTRIBUTE_UNSET:
            voter = self._named(message.voter)
            if actor == voter:
                self.self_registered.add(voter)
            if type == ATTRIBUTE_SET:
                if self._skeletons is not None and voter not in self.attributes:
                    self._skeletons.setdefault(skeleton(voter), voter)
                self.attributes.setdefault(voter, {})[message.attribute] = message.value
            else:
                self.attributes.get(voter, {}).pop(message.attribute, None)
        elif type == PRIMARY_EXTENDED:
            self.primary[self._named(message.voter)] = message.edges
        elif type == PRIMARY_WITHDRAWN:
            self.primary.pop(message.voter, None)
        elif type == DOUBT_RAISED:
            doubter, doubted = self._named(message.doubter), self._named(message.doubted)
            self.doubts.setdefault(doubter, {})[doubted] = message.reason
            self.doubted_in.setdefault(doubted, {})[doubter] = None
        elif type == DOUBT_WITHDRAWN:
            self.doubts.get(message.doubter, {}).pop(message.doubted, None)
            self.doubted_in.get(message.doubted, {}).pop(message.doubter, None)

    # -- reads ---------------------------------------------------------------------------

    def attribute(self, voter: str, attribute: str) -> str | None:
        return self.attributes.get(voter, {}).get(attribute)

    def trusted_by(self, truster: str) -> list[str]:
        return sorted(self.trusts.get(truster, ()))

    def trusts_in(self, truster: str, trustee: str) -> bool:
        return trustee in self.trusts.get(truster, ())

    def doubts_by(self, doubter: str) -> list[tuple[str, str]]:
        return sorted(self.doubts.get(doubter, {}).items())

    def trusters_of(self, trustee: str) -> list[str]:
        """Who trusts `trustee`, by address."""
        return sorted(self.trusted_in.get(trustee, ()))

    def doubters_of(self, doubted: str) -> list[tuple[str, str]]:
        """Who doubts `doubted`, with the reasons they gave, by address."""
        return sorted((doubter, self.doubts[doubter][doubted]) for doubter in self.doubted_in.get(doubted, ()))

    def lookalike_of(self, voter: str) -> str | None:
        """A registered voter other than `voter` whose address looks the same (equal UTS #39 skeletons)."""
        if self._skeletons is None:
            self._skeletons = {}
            for registered in self.attributes:
                self._skeletons.setdefault(skeleton(registered), registered)
        found = self._skeletons.get(skeleton(voter))
        return found if found is not None and found != voter else None


def evolve(state: RegisterState, event_type: str, message: Message, actor: str) -> RegisterState:
    """Fold one event into the state (the actor tells a registrant's own change from a pre-registration)."""
    state.evolve(event_type, message, actor)
    return state


# -- guards ----------------------------------------------------------------------------------


def check_not_self(actor: str, other: str, verb: str) -> None:
    if actor == other:
        raise SelfTrustError(f"you cannot {verb} yourself; name another voter")


def check_may_alter(state: RegisterState, actor: str, voter: str, level: int | None, minimum: int) -> None:
    """May `actor` change `voter`'s attributes? level: actor's level in the reported list (None: no list)."""
    if actor == voter:
        return
    if voter in state.self_registered:
        raise AlterForbiddenError(f"{voter} has set their own attributes, so only they can change them now")
    if level is None and minimum > 0:
        raise AlterForbiddenError(
            f"pre-registering others needs trust level {minimum} in the reported voter list, and no list is "
            "reported yet; ask the operator to compile one (`civitas list`)")
    if level is not None and level < minimum:
        raise AlterForbiddenError(
            f"pre-registering others needs trust level {minimum} in the reported voter list; yours is {level}")


def check_not_lookalike(state: RegisterState, voter: str) -> None:
    """A new registrant's address must not pass for a registered voter's."""
    if voter in state.attributes:
        return
    other = state.lookalike_of(voter)
    if other is not None:
        raise LookalikeError(
            f"{voter} looks like the address of registered voter {other}, so neighbours could take one for the other; "
            "register with an address that cannot be mistaken for theirs, or ask the site's operator")


def check_primary_edges(edges: int) -> None:
    if not 1 <= edges <= MAX_PRIMARY_EDGES:
        raise PrimaryEdgesError(
            f"the registrar extends 1 to {MAX_PRIMARY_EDGES} primary edges, not {edges}; "
            "to withdraw them, use registrar untrust")


# -- decisions -------------------------------------------------------------------------------


def decide_set(state: RegisterState, actor: str, voter: str, attribute: str, value: str, *,
               level: int | None = None, minimum: int = 0) -> list[NewEvent]:
    check_value(attribute, value)
    check_may_alter(state, actor, voter, level, minimum)
    check_not_lookalike(state, voter)
    if state.attribute(voter, attribute) == value and not _takes_control(state, actor, voter):
        return []
    return [NewEvent.of(registration_pb2.AttributeSet(voter=voter, attribute=attribute, value=value), actor)]


def decide_unset(state: RegisterState, actor: str, voter: str, attribute: str, *,
                 level: int | None = None, minimum: int = 0) -> list[NewEvent]:
    check_attribute(attribute)
    check_may_alter(state, actor, voter, level, minimum)
    if state.attribute(voter, attribute) is None and not _takes_control(state, actor, voter):
        return []
    return [NewEvent.of(registration_pb2.AttributeUnset(voter=voter, attribute=attribute), actor)]


def _takes_control(state: RegisterState, actor: str, voter: str) -> bool:
    # A registrant's first change of their own attributes is written even if it changes no value:
    # from then on only they may change them.
    return actor == voter and voter not in state.self_registered


def decide_trust(state: RegisterState, truster: str, trustee: str) -> list[NewEvent]:
    check_not_self(truster, trustee, "trust")
    if state.trusts_in(truster, trustee):
        return []
    return [NewEvent.of(trust_pb2.TrustExtended(truster=truster, trustee=trustee), truster)]


def decide_untrust(state: RegisterState, truster: str, trustee: str) -> list[NewEvent]:
    check_not_self(truster, trustee, "untrust")
    if not state.trusts_in(truster, trustee):
        return []
    return [NewEvent.of(trust_pb2.TrustWithdrawn(truster=truster, trustee=trustee), truster)]


def decide_doubt(state: RegisterState, doubter: str, doubted: str, reason: str) -> list[NewEvent]:
    check_not_self(doubter, doubted, "doubt")
    check_reason(reason)
    if state.doubts.get(doubter, {}).get(doubted) == reason:
        return []
    return [NewEvent.of(doubt_pb2.DoubtRaised(doubter=doubter, doubted=doubted, reason=reason), doubter)]


def decide_undoubt(state: RegisterState, doubter: str, doubted: str) -> list[NewEvent]:
    check_not_self(doubter, doubted, "undoubt")
    if doubted not in state.doubts.get(doubter, {}):
        return []
    return [NewEvent.of(doubt_pb2.DoubtWithdrawn(doubter=doubter, doubted=doubted), doubter)]


def decide_primary_trust(state: RegisterState, voter: str, edges: int) -> list[NewEvent]:
    check_primary_edges(edges)
    if state.primary.get(voter) == edges:
        return []
    return [NewEvent.of(trust_pb2.PrimaryTrustExtended(voter=voter, edges=edges), REGISTRAR)]


def decide_primary_untrust(state: RegisterState, voter: str) -> list[NewEvent]:
    if voter not in state.primary:
        return []
    return [NewEvent.of(trust_pb2.PrimaryTrustWithdrawn(voter=voter), REGISTRAR)]


def decide_registrar_primary(state: RegisterState, registrar: str, registrars: tuple[str, ...], voter: str,
                             edges: int) -> list[NewEvent]:
    """Primary trust given by a voter the live release names a registrar, recorded under their name; 0 withdraws."""
    if registrar not in registrars:
        raise ForbiddenError(f"{registrar} is no registrar of this site: registrars.toml in the live repository "
                            "names who may give primary trust; propose a change to it")
    if voter == registrar:
        raise CommandError("a registrar cannot give primary trust to themselves; another registrar can")
    if edges == 0:
        return [NewEvent.of(trust_pb2.PrimaryTrustWithdrawn(voter=voter), registrar)] if voter in state.primary else []
    check_primary_edges(edges)
    if state.primary.get(voter) == edges:
        return []
    return [NewEvent.of(trust_pb2.PrimaryTrustExtended(voter=voter, edges=edges), registrar)]
