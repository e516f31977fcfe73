"""Forks and moves at the register: confirm an inheritance, accept a move, move out, take a move in, the history.

The decisions are domain/lineage.py's; this layer reads the voter's events by hash, carries them between sites
(courier.py) and appends. Each command here is written on its own (never inside another command's batch): a move
statement must be sealed and signed before the other site is shown it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from civitas_kernel.commands import CommandError, Reply
from civitas_kernel.errors import ConcurrencyError, IntegrityError
from civitas_kernel.events import NewEvent, RecordedEvent, event_hash
from civitas_kernel.service.problems import Problem
from civitas_kernel.signing import open_checkpoint
from civitas_schema.v1 import envelope_pb2, lineage_pb2

from civitas_registry.courier import MoveCourier
from civitas_registry.domain import lineage as ln
from civitas_registry.domain import register as r
from civitas_registry.domain.values import check_value
from civitas_registry.gathering import VoterIndex, inherited_of, own_events_of, own_index
from civitas_registry.move_asks import check_ask, signed_ask

MAX_CARRIED = 10_000  # attributes and trust edges a statement may carry
CARRIED_TYPES = {r.ATTRIBUTE_SET: "registration", r.TRUST_EXTENDED: "trust", r.PRIMARY_EXTENDED: "trust"}
MOVE_CARRIES = (r.ATTRIBUTE_SET, r.TRUST_EXTENDED)  # never the registrar's trust: the site moved to decides its own


@dataclass
class MoveOptions:
    """What moves need of the site: its clock, the cooling-off period and the sites it knows (url and key)."""

    clock: Callable[[], int]
    cooling_off_us: int = 7 * ln.DAY_US
    site_url: Callable[[str], str | None] = lambda site: None  # where a site to move to answers (the operator's)
    site_key: Callable[[str], bytes | None] = lambda site: None  # a site's pinned key
    courier: MoveCourier | None = None
    # other services' events written with a move in its transaction (voter, site moved to or "" for here, time):
    # on the embedded site, drafts' mark of where the member went
    along: Callable[[str, str, int], list[tuple[str, list[NewEvent]]]] = lambda voter, to_site, at_us: []
    # service mode: the voter's events other services of this site hold (drafts'), by hash, for the statement
    named_elsewhere: Callable[[str], list[bytes]] = lambda voter: []
    # service mode: a move event written here (statement and checkpoint, base64), told to the services that mark it
    told: Callable[[dict], None] = lambda payload: None
    # the site's lock let go while another site is asked, so two sites moving voters to each other never wait
    # on each other's lock
    outside: Callable[[], AbstractContextManager] = nullcontext


def fork_parent_of(log) -> str | None:
    """The site this one was forked from, if it is a fork, read without folding the register.

    A fork's SiteForked is the first event of its registration stream (forking.py appends it at position 1), so the
    one event answers: a record made in a fresh process (`civitas list`, `civitas count`) need not fold a million.
    """
    for event in log.read("registration", until=1):
        if event.type == ln.SITE_FORKED:
            return lineage_pb2.SiteForked.FromString(event.body).parent or None
    return None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _sealed(event: RecordedEvent) -> bytes:
    return envelope_pb2.SealedEvent(envelope=event.raw, hash=event.hash).SerializeToString(deterministic=True)


class LineageCommands:
    def __init__(self, registry, options: MoveOptions) -> None:
        self.registry, self.options = registry, options
        self.state = ln.LineageState()
        self._index: VoterIndex | None = None  # the parent's cut, indexed by voter at the first confirmation
        self._own: VoterIndex | None = None  # this site's streams, indexed by voter at the first move, then followed

    @property
    def log(self):
        return self.registry.log

    def _write(self, batches: Callable[[], Sequence[tuple[str, list[NewEvent]]]]) -> list:
        """Decide against the caught-up state and append every stream's events in one transaction. Inside a batch
        (the voter shell's chunk), what the batch decided so far is written first, then this on its own."""
        folder = self.registry.folder
        pending, folder.pending = folder.pending, None
        if pending is not None:
            pending.flush()
        try:
            return self._append(batches)
        finally:
            folder.pending = pending

    def _append(self, batches) -> list:
        folder = self.registry.folder
        for _ in range(8):
            self.registry.catch_up()
            decided = [(stream, events) for stream, events in batches() if events]
            if not decided:
                return []
            at = {s: folder.positions[s] if s in folder.positions else self.log.head(s).seq for s, _ in decided}
            try:
                results = self.log.append_batches([(s, e, at[s]) for s, e in decided])
            except ConcurrencyError:
                continue
            self.registry.catch_up()
            return results
        raise CommandError("the register kept changing while this was decided; try again")

    # -- a fork's inherited voters ----------------------------------------------------------------

    def cut(self) -> dict[str, int]:
        """The parent's position of each stream at the fork's cut."""
        return {c.stream: c.seq for c in (open_checkpoint(envelope_pb2.SignedCheckpoint.FromString(h))
                                          for h in self.state.heads)}

    def confirm(self, voter: str) -> Reply:
        state = self.state

        def decide():
            gathered = inherited_of(self._parent_index(), voter, set(state.confirmed)) if state.parent else None
            carried = gathered.carried if gathered else []
            head = ln.decide_confirm(state, voter, [e.hash for e in carried])
            return [("registration", head + self._restated(carried, "registration")),
                    ("trust", self._restated(carried, "trust"))]

        self._write(decide)
        return Reply(f"welcome, {voter}: your registration inherited from {state.parent} counts on {self.log.site} "
                     "from now on (votes and delegations never carry over; cast them here)",
                     {"voter": voter, "parent": state.parent, "confirmed": True})

    def _parent_index(self) -> VoterIndex:
        if self._index is None:
            self._index = VoterIndex(self.log, self.state.parent, self.cut())
            self._index.catch_up()
        return self._index

    def _own_events(self, voter: str):
        if self._own is None:
            self._own = own_index(self.log)
        return own_events_of(self._own, voter)

    def _restated(self, events: list[RecordedEvent], stream: str, actor: str | None = None) -> list[NewEvent]:
        """The carried events' statements as this site's events: bodies as they were, actors as they were (or the
        moving voter's, who brings them)."""
        return [NewEvent(e.type, e.body, actor or e.actor) for e in events if CARRIED_TYPES.get(e.type) == stream]

    # -- moving out -----------------------------------------------------------------------------

    def _destination(self, site: str) -> tuple[str, bytes]:
        url, key = self.options.site_url(site), self.options.site_key(site)
        if url is None or key is None:
            raise ln.MoveRefused(f"{self.log.site} does not know site {site!r}: its operator names it with "
                                 f"`civitas sync attach {site} --role ... --url URL --key KEY`; nothing was written")
        return url, key

    def move(self, voter: str, to_site: str) -> Reply:
        url, key = self._destination(to_site)
        courier = self.options.courier or MoveCourier()
        self.registry.catch_up()
        if self.state.moved_to(voter) == to_site:  # recorded here before; its arrival there may be missing
            statement = self._last_statement(voter)
            return self._deliver(voter, to_site, url, courier, statement, untold=self._tell(statement))
        now, cooling = self.options.clock(), self.options.cooling_off_us
        ln.decide_move_out(self.state, self.log.site, voter, to_site, key, now, cooling, [], [])  # refusals first
        ask = signed_ask(self.log.key, self.log.site, to_site, voter, now)
        with self._outside():
            courier.ready(to_site, url, ask)  # the other site answers and would take them
            elsewhere = self.options.named_elsewhere(voter)  # a service that does not answer: nothing written
        gathered = self._own_events(voter)
        written = self._write(lambda: [("registration", ln.decide_move_out(
            self.state, self.log.site, voter, to_site, key, now, cooling, gathered.named + elsewhere,
            gathered.received)), *self.options.along(voter, to_site, now)])
        at = next(r.last_seq for r in written if r.stream == "registration")  # the statement is its only event there
        statement = next(iter(self.log.read("registration", after=at - 1, until=at)))
        return self._deliver(voter, to_site, url, courier, statement, gathered.carried, untold=self._tell(statement))

    def _payload(self, event: RecordedEvent) -> dict:
        signed = self.log.checkpoints_between("registration", after=event.seq - 1, until=event.seq)
        return {"statement": _b64(_sealed(event)), "checkpoint": _b64(signed[event.seq])}

    def _tell(self, event: RecordedEvent) -> str | None:
        """Tell this site's other services of a move event written here (drafts marks it); why not, if it failed."""
        try:
            with self._outside():
                self.options.told(self._payload(event))
        except (CommandError, Problem) as e:
            return str(e)
        return None

    def _outside(self) -> AbstractContextManager:
        """Let go of the site's lock while another site is asked; a batch's events decided so far are written first,
        so nobody else's write carries them meanwhile."""
        pending = self.registry.folder.pending
        if pending is not None:
            pending.flush()
        return self.options.outside()

    def _last_statement(self, voter: str) -> RecordedEvent:
        found = None
        for event in self.log.read("registration"):
            if event.type == ln.VOTER_MOVED_OUT and event.actor == voter:
                found = event
        return found

    def _deliver(self, voter: str, to_site: str, url: str, courier: MoveCourier, statement: RecordedEvent,
                 standing: list[RecordedEvent] | None = None, untold: str | None = None) -> Reply:
        """standing: the voter's standing events as gathered for the statement (None: gathered again, for a resend);
        untold: why this site's drafts were not told of the move, if they were not."""
        named = set(statement.message().events)
        standing = self._own_events(voter).carried if standing is None else standing
        carried = [e for e in standing if e.hash in named]
        payload = self._payload(statement) | {"carried": [_b64(_sealed(e)) for e in carried]}
        try:
            with self._outside():
                courier.deliver(to_site, url, payload)
        except CommandError as e:
            return Reply(f"your move to {to_site} is recorded here, but {to_site} has not recorded your arrival: {e}. "
                         f"Run `register move {to_site}` again to send it once more.",
                         {"voter": voter, "to": to_site, "arrived": False, "reason": str(e)})
        if untold is not None:
            return Reply(f"you moved from {self.log.site} to {to_site}, but the groups here do not say so yet: "
                         f"{untold}. Run `register move {to_site}` again to tell them.",
                         {"voter": voter, "to": to_site, "arrived": True, "marked": False, "reason": untold})
        return Reply(f"you moved from {self.log.site} to {to_site}: {len(named)} of your events named by hash, "
                     f"{len(carried)} carried; {self.log.site} no longer counts you and points to {to_site}",
                     {"voter": voter, "to": to_site, "arrived": True, "named": len(named), "carried": len(carried)})

    # -- moving in --------------------------------------------------------------------------------

    def accept_move(self, voter: str, from_site: str) -> Reply:
        self._write(lambda: [("registration", ln.decide_accept(self.state, self.log.site, voter, from_site))])
        return Reply(f"{self.log.site} will take your move from {from_site}: sign in there and run "
                     f"`register move {self.log.site}`", {"voter": voter, "from": from_site, "accepted": True})

    def ready(self, voter: str, from_site: str, at_us: int, signature: str) -> dict:
        """Whether this site would take `voter` from `from_site` now, told only to `from_site` (a signed ask)."""
        check_ask(self.options.site_key(from_site), from_site, self.log.site, voter, at_us, signature,
                  self.options.clock())
        self.registry.catch_up()
        if from_site not in self.state.accepted.get(voter, ()):
            raise ln.MoveRefused(f"{voter} has not asked {self.log.site} to let them in from {from_site}: sign in "
                                 f"on {self.log.site} and run `register accept-move {from_site}` first")
        ln.check_cooling_off(self.state, voter, self.options.clock(), self.options.cooling_off_us)
        if self.options.site_key(from_site) is None:
            raise ln.MoveRefused(f"{self.log.site} holds no key for {from_site}, so it cannot check the statement")
        return {"site": self.log.site, "voter": voter, "from": from_site, "ready": True}

    def arrive(self, payload: dict) -> Reply:
        statement, body, carried = self._verified(payload)
        voter, from_site = body.voter, statement.site

        def decide():
            ln.check_arrival(self.state, voter, from_site, statement.hash, body.moved_at_us,
                             self.options.cooling_off_us)
            r.check_not_lookalike(self.registry.state, voter)  # the rules this site's own registrants meet
            for e in carried:
                if e.type == r.ATTRIBUTE_SET:
                    m = e.message()
                    if m.voter != voter:
                        raise ln.MoveRefused("a carried attribute is another voter's")
                    check_value(m.attribute, m.value)
                elif e.type == r.TRUST_EXTENDED and e.message().truster != voter:
                    raise ln.MoveRefused("a carried trust edge is another voter's")
            known = self.registry.state.registrants
            trust = [e for e in carried if e.type == r.TRUST_EXTENDED and e.message().trustee in known]
            moved_in = NewEvent.of(lineage_pb2.VoterMovedIn(
                voter=voter, from_site=from_site, from_key=self.options.site_key(from_site),
                statement=_sealed(statement), checkpoint=base64.b64decode(payload["checkpoint"]),
                carried=[_sealed(e) for e in carried], moved_at_us=body.moved_at_us), voter)
            # the arrival last: its checkpoint signs it, so this site's drafts can check it was written here
            return [("registration", [*self._restated(carried, "registration", voter), moved_in]),
                    ("trust", self._restated(trust, "trust", voter)), *self.options.along(voter, "", body.moved_at_us)]

        written = self._write(decide)
        at = next(r.last_seq for r in written if r.stream == "registration")
        untold = self._tell(next(iter(self.log.read("registration", after=at - 1, until=at))))
        return Reply(f"{voter} moved in from {from_site}", {"voter": voter, "from": from_site, "arrived": True,
                                                            "marked": untold is None})

    def _verified(self, payload: dict):
        """The statement, checked: sealed by the site named, signed with its pinned key, the moving voter's own."""
        if not isinstance(payload.get("carried", []), list) or len(payload.get("carried", [])) > MAX_CARRIED:
            raise CommandError(f"carried is a list of at most {MAX_CARRIED} events")
        try:
            sealed = envelope_pb2.SealedEvent.FromString(base64.b64decode(payload["statement"], validate=True))
            signed = envelope_pb2.SignedCheckpoint.FromString(base64.b64decode(payload["checkpoint"], validate=True))
            extra = [envelope_pb2.SealedEvent.FromString(base64.b64decode(c, validate=True))
                     for c in payload.get("carried", [])]
        except Exception:
            raise CommandError("the move statement does not decode: send statement, checkpoint and carried as base64 "
                               "of their protobuf bytes") from None
        statement = RecordedEvent.decode(sealed.envelope, event_hash(sealed.envelope))
        key = self.options.site_key(statement.site)
        if key is None:
            raise ln.MoveRefused(f"{self.log.site} holds no key for {statement.site}: its operator pins it first")
        try:
            checkpoint = open_checkpoint(signed, key)
        except IntegrityError as e:
            raise ln.MoveRefused(f"the move statement is not signed by {statement.site}'s key: {e.problem}") from None
        if (checkpoint.site, checkpoint.stream, checkpoint.seq, checkpoint.head_hash) != \
                (statement.site, "registration", statement.seq, statement.hash) or sealed.hash != statement.hash:
            raise ln.MoveRefused("the move statement is not the event its site's signature covers")
        if statement.type != ln.VOTER_MOVED_OUT:
            raise ln.MoveRefused(f"that event is a {statement.type}, not a move statement")
        body = statement.message()
        if body.voter != statement.actor:
            raise ln.MoveRefused(f"the move statement is not signed by the moving voter: {body.voter} is moved, "
                                 f"{statement.actor or 'nobody'} asked")
        if body.to_site != self.log.site or bytes(body.to_key) != self.log.key.public_key:
            raise ln.MoveRefused(f"the move statement names {body.to_site}, not {self.log.site} with its key")
        named, carried = set(body.events), []
        for item in extra:
            event = RecordedEvent.decode(item.envelope, event_hash(item.envelope))
            if event.hash not in named or event.site != statement.site or event.type not in MOVE_CARRIES:
                raise ln.MoveRefused("a carried event is not one the move statement names by hash, or not an attribute "
                                     "or trust edge (a move never carries the registrar's trust)")
            carried.append(event)
        return statement, body, carried

    # -- reads ------------------------------------------------------------------------------------

    def moves_of(self, voter: str) -> list[dict]:
        self.registry.catch_up()
        return [{"direction": m.direction, "site": m.site, "at_us": m.at_us, "statement": m.statement.hex()}
                for m in self.state.moves.get(voter, [])]

    def where_moved(self, voter: str) -> dict:
        """Where a voter who left this site went, and their page there (at the URL the operator named): {} if not."""
        self.registry.catch_up()
        gone = self.state.moved_to(voter)
        if gone is None:
            return {}
        url = self.options.site_url(gone)
        return {"moved_to": gone, "moved_url": f"{url.rstrip('/')}/voters/{voter}" if url else None}

    def evidence_of(self, voter: str) -> list[dict]:
        """Trust edges others gave a voter where they came from: shown here, counted there."""
        self.registry.catch_up()
        return [{"from": m.site, "trust_edges_received": m.received}
                for m in self.state.moves.get(voter, []) if m.direction == "in"]

    def check(self) -> list[str]:
        """Problems with this fork's claims, checked against the parent's events held here: each head of the cut
        signed by the parent's key and ending where the held stream has that event; every event a confirmation
        names is the parent's, within the cut. Empty: all hold (or this site is no fork)."""
        self.registry.catch_up()
        s, problems = self.state, []
        if s.parent is None:
            return problems
        for raw in s.heads:
            try:
                c = open_checkpoint(envelope_pb2.SignedCheckpoint.FromString(raw), s.parent_key)
            except IntegrityError as e:
                problems.append(f"a head of the cut is not signed by {s.parent}'s key: {e.problem}")
                continue
            held = list(self.log.read(c.stream, site=s.parent, after=c.seq - 1, until=c.seq))
            if not held or held[0].hash != c.head_hash:
                problems.append(f"{s.parent}/{c.stream}: the event held at {c.seq} is not the cut's head")
        cut = self.cut()
        within = {e.hash for stream in ("registration", "trust")
                  for e in self.log.read(stream, site=s.parent, until=cut.get(stream, 0))}
        for event in self.log.read("registration"):
            if event.type == ln.INHERITANCE_CONFIRMED:
                m = event.message()
                missing = [h.hex() for h in m.events if h not in within]
                if missing:
                    problems.append(f"{m.voter}'s confirmation names events not in {s.parent}'s cut: "
                                    + ", ".join(missing[:5]))
        return problems

    def lineage(self) -> dict:
        self.registry.catch_up()
        s = self.state
        heads = [open_checkpoint(envelope_pb2.SignedCheckpoint.FromString(h)) for h in s.heads]
        return {"site": self.log.site, "parent": s.parent, "parent_key": s.parent_key.hex(),
                "live_commit": s.live_commit, "confirmed": len(s.confirmed),
                "cut": [{"stream": c.stream, "seq": c.seq, "head_hash": c.head_hash.hex()} for c in heads]}
