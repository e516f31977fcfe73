"""A voter's move, told to drafts by the register of the same site (service mode): the drafts service is the one
writer of the draft stream, so it writes the mark `DraftMemberMoved` itself, and only for a move statement sealed on
this site and signed with the site's key (so nobody marks a voter who did not move), and names the voter's own
drafts events for the statement the register is about to seal."""

from __future__ import annotations

import base64

from civitas_kernel.commands import CommandError, ForbiddenError, Reply
from civitas_kernel.errors import IntegrityError
from civitas_kernel.events import NewEvent, RecordedEvent, event_hash
from civitas_kernel.signing import open_checkpoint
from civitas_schema.v1 import draft_pb2, envelope_pb2, lineage_pb2

MOVED_OUT = lineage_pb2.VoterMovedOut.DESCRIPTOR.full_name
MOVED_IN = lineage_pb2.VoterMovedIn.DESCRIPTOR.full_name


def _statement(log, payload: dict) -> RecordedEvent:
    """The move event, checked: sealed on this site's registration stream and covered by the site's signature."""
    try:
        sealed = envelope_pb2.SealedEvent.FromString(base64.b64decode(payload["statement"], validate=True))
        signed = envelope_pb2.SignedCheckpoint.FromString(base64.b64decode(payload["checkpoint"], validate=True))
    except Exception:
        raise CommandError("send statement and checkpoint as base64 of their protobuf bytes") from None
    event = RecordedEvent.decode(sealed.envelope, event_hash(sealed.envelope))
    try:
        checkpoint = open_checkpoint(signed, log.key.public_key)
    except IntegrityError as e:
        raise ForbiddenError(f"the move is not signed with this site's key: {e.problem}") from None
    if (checkpoint.site, checkpoint.stream, checkpoint.seq, checkpoint.head_hash) != \
            (log.site, "registration", event.seq, event.hash) or event.site != log.site:
        raise ForbiddenError("the move is not the event this site's signature covers")
    if event.type not in (MOVED_OUT, MOVED_IN) or event.message().voter != event.actor:
        raise ForbiddenError("that event is not a voter's own move")
    return event


def mark_moved(drafts, payload: dict) -> Reply:
    """Write the mark of where the member's registration went (moved out: the site; moved in: "", which clears it),
    once per move event."""
    event = _statement(drafts.log, payload)
    body = event.message()
    voter, to_site = body.voter, body.to_site if event.type == MOVED_OUT else ""
    drafts.catch_up()
    mark = NewEvent.of(draft_pb2.DraftMemberMoved(voter=voter, to_site=to_site, moved_at_us=body.moved_at_us), voter)
    drafts.folder.append("draft", lambda: [mark] if (drafts.state.moved_to(voter) or "") != to_site else [],
                         idempotency_key=f"moved {event.hash.hex()}")
    return Reply(f"{voter}'s memberships here say {'moved to ' + to_site if to_site else 'here'}",
                 {"voter": voter, "moved_to": to_site or None})


def events_of(drafts, voter: str, limit: int) -> list[str]:
    """The hashes of the voter's own drafts events (hex, in order), for their move statement."""
    found: list[str] = []
    for event in drafts.log.read("draft"):
        if event.actor == voter:
            found.append(event.hash.hex())
            if len(found) > limit:
                raise CommandError(f"{voter} wrote more than {limit} drafts events; a statement names at most that")
    return found
