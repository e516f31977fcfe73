"""What the mail interface keeps in the gateway's store: the deliveries it handled (so a message delivered twice is
handled once) and the commands it holds for their senders' answers (tokens kept as digests only)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Boolean, Column, Float, MetaData, String, Table, Text, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

metadata = MetaData()

deliveries = Table(
    "mail_deliveries",
    metadata,
    Column("key", String(64), primary_key=True),  # Incoming.key: the Message-ID (else the bytes) and the recipient
    Column("done", Boolean, nullable=False, default=False),  # answered; a redelivery is then ignored
    Column("received_at", Float, nullable=False),
)

held = Table(
    "mail_held",
    metadata,
    Column("token_digest", String(64), primary_key=True),
    Column("delivery", String(64), nullable=False, unique=True),  # one challenge per delivery, even if handled again
    Column("sender", String(320), nullable=False),
    Column("service", String(200), nullable=False),
    Column("lines", Text, nullable=False),  # JSON: [[line number, line], ...], in order
    Column("subject", Text, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("answered_by", String(64)),  # the delivery that answered the challenge; NULL while open
)


@dataclass(frozen=True)
class Held:
    delivery: str
    sender: str
    service: str
    lines: list[tuple[int, str]]
    subject: str
    expires_at: float
    answered_by: str | None


class MailStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    def begin(self, key: str, now: float) -> bool:
        """Start handling a delivery; False if it was handled (answered) already."""
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(deliveries).values(key=key, done=False, received_at=now))
            return True
        except IntegrityError:
            with self.engine.connect() as conn:
                done = conn.execute(select(deliveries.c.done).where(deliveries.c.key == key)).scalar_one()
            return not done  # not done: handling stopped half-way (a crash); handle it again, idempotently

    def finish(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(deliveries).where(deliveries.c.key == key).values(done=True))

    def hold(self, token_digest: str, delivery: str, sender: str, service: str, lines: list[tuple[int, str]],
             subject: str, expires_at: float) -> bool:
        """Hold commands for the sender's answer to the challenge with this token; a delivery handled again (after a
        crash) gets the new token instead of its first, unanswered one. False if that one was answered already."""
        values = {"token_digest": token_digest, "sender": sender, "service": service, "lines": json.dumps(lines),
                  "subject": subject, "expires_at": expires_at}
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(held).values(delivery=delivery, answered_by=None, **values))
            return True
        except IntegrityError:
            with self.engine.begin() as conn:
                renewed = conn.execute(update(held).where(held.c.delivery == delivery, held.c.answered_by.is_(None))
                                       .values(**values))
                return renewed.rowcount == 1

    def held(self, token_digest: str) -> Held | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(held).where(held.c.token_digest == token_digest)).first()
        if row is None:
            return None
        return Held(row.delivery, row.sender, row.service, [tuple(x) for x in json.loads(row.lines)], row.subject,
                    row.expires_at, row.answered_by)

    def answer(self, token_digest: str, delivery: str) -> bool:
        """Mark the challenge answered by `delivery`; True if it is now answered by that delivery (first, or the same
        delivery handled again after a crash), False if another answer came first."""
        with self.engine.begin() as conn:
            conn.execute(update(held).where(held.c.token_digest == token_digest, held.c.answered_by.is_(None))
                         .values(answered_by=delivery))
            return conn.execute(select(held.c.answered_by).where(held.c.token_digest == token_digest)).scalar() == delivery
