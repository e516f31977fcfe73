"""Notices to a candidate when someone starts or stops voting for them: on their pages, and by mail.

The board folds the vote stream (the embedded log, or the polls service's /events/vote through RemoteSite's
log) into each voter's current vote, and keeps the latest notices of each candidate in memory: the log is
the truth, so a restart folds them again. A notice is mailed once: a gateway mails it only if it is the first
to claim (the vote's position, the candidate) in the gateway's store, which gateways side by side share; votes
already in the log when a site first starts notices are not mailed. A notice is mailed only to a candidate who
is a registrant (an address this site knows), never to an address someone merely voted for.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy import BigInteger, Column, MetaData, String, Table, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from civitas_kernel.events import RecordedEvent
from civitas_schema.v1 import vote_pb2

from civitas_gateway.mail import Mailer, MailError

VOTE_CAST = vote_pb2.VoteCast.DESCRIPTOR.full_name
VOTE_WITHDRAWN = vote_pb2.VoteWithdrawn.DESCRIPTOR.full_name
KEEP = 50  # notices kept per candidate for the pages
EVERY_S = 2.0  # seconds between looks at the vote stream

log = logging.getLogger("civitas.gateway.notices")

metadata = MetaData()
claims = Table(
    "vote_notices_mailed",
    metadata,
    Column("seq", BigInteger, primary_key=True),  # the vote event's position in the vote stream
    Column("candidate", String(500), primary_key=True),  # "" marks where mailing began
)


@dataclass(frozen=True)
class Notice:
    poll: str
    candidate: str
    voter: str
    started: bool  # True: started voting for the candidate; False: stopped
    at_us: int  # when the log recorded it
    seq: int

    def text(self, you: str = "you") -> str:
        verb = "started" if self.started else "stopped"
        return f"{self.voter} {verb} voting for {you} in {self.poll}"

    @property
    def when(self) -> str:
        return datetime.fromtimestamp(self.at_us / 1e6, UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass
class VoteWatch:
    """Each voter's current vote per poll, and the notices each vote event makes (pure: no I/O)."""

    votes: dict[tuple[str, str], str] = field(default_factory=dict)  # (poll, voter) -> candidate

    def apply(self, event: RecordedEvent) -> list[Notice]:
        if event.type == VOTE_CAST:
            cast = vote_pb2.VoteCast.FromString(event.body)
            before = self.votes.get((cast.poll, cast.voter))
            if before == cast.candidate:
                return []
            self.votes[(cast.poll, cast.voter)] = cast.candidate
            notices = [Notice(cast.poll, cast.candidate, cast.voter, True, event.recorded_at_us, event.seq)]
            if before is not None:
                notices.insert(0, Notice(cast.poll, before, cast.voter, False, event.recorded_at_us, event.seq))
            return notices
        if event.type == VOTE_WITHDRAWN:
            withdrawn = vote_pb2.VoteWithdrawn.FromString(event.body)
            before = self.votes.pop((withdrawn.poll, withdrawn.voter), None)
            return [] if before is None else [Notice(withdrawn.poll, before, withdrawn.voter, False,
                                                     event.recorded_at_us, event.seq)]
        return []


class NoticeBoard:
    """The latest notices per candidate, folded from the vote stream; mails each new one once."""

    def __init__(self, read_votes: Callable[[int], Iterable[RecordedEvent]], *, engine: Engine | None = None,
                 mailer: Mailer | None = None, is_registrant: Callable[[str], bool] = lambda _: False,
                 site: str = "localhost", mail_from: str = "civitas@localhost") -> None:
        self.read_votes, self.engine, self.mailer, self.is_registrant = read_votes, engine, mailer, is_registrant
        self.site, self.mail_from = site, mail_from
        self.watch = VoteWatch()
        self.position = 0
        self.recent: dict[str, deque[Notice]] = {}
        self._lock = threading.Lock()
        self._mail_after: int | None = None  # notices of events after this position are mailed
        if engine is not None:
            metadata.create_all(engine)

    def catch_up(self) -> int:
        """Fold the vote events after the board's position; returns how many notices they made."""
        with self._lock:
            mailing = self.mailer is not None and self.engine is not None
            if mailing and self._mail_after is None:
                self._mail_after = self._marked()
            made = []
            for event in self.read_votes(self.position):
                self.position = event.seq
                for notice in self.watch.apply(event):
                    self.recent.setdefault(notice.candidate, deque(maxlen=KEEP)).appendleft(notice)
                    made.append(notice)
            if mailing and self._mail_after is None:  # the site's first start of notices: what is there is history
                self._mail_after = self._mark(self.position)
            mail_after = self._mail_after
        if mailing:
            for notice in made:
                if notice.seq > mail_after:
                    self._mail(notice)
        return len(made)

    def for_candidate(self, candidate: str) -> list[Notice]:
        """The candidate's latest notices, newest first."""
        with self._lock:
            return list(self.recent.get(candidate, ()))

    # -- mail ------------------------------------------------------------------------------------

    def _marked(self) -> int | None:
        with self.engine.connect() as conn:
            return conn.execute(select(func.min(claims.c.seq)).where(claims.c.candidate == "")).scalar()

    def _mark(self, position: int) -> int:
        """Mailing begins after `position`; gateways starting together keep the earliest mark."""
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(claims).values(seq=position, candidate=""))
        except IntegrityError:
            pass
        return self._marked()

    def _claim(self, notice: Notice) -> bool:
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(claims).values(seq=notice.seq, candidate=notice.candidate))
            return True
        except IntegrityError:
            return False  # mailed already, by us before a restart or by another gateway

    def _mail(self, notice: Notice) -> None:
        if "@" not in notice.candidate or not self.is_registrant(notice.candidate) or not self._claim(notice):
            return
        try:
            self.mailer.send(self.message(notice))
        except MailError:
            log.warning("a vote notice to %s was not sent", notice.candidate, exc_info=True)

    def message(self, notice: Notice) -> EmailMessage:
        message = EmailMessage()
        verb = "started" if notice.started else "stopped"
        message["Subject"] = f"{notice.voter} {verb} voting for you in {notice.poll}"
        message["From"] = self.mail_from
        message["To"] = notice.candidate
        message["Date"] = formatdate()
        message["Message-ID"] = make_msgid(domain=self.mail_from.rpartition("@")[2] or None)
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
        message.set_content(
            f"{notice.text()} ({notice.when}).\n\n"
            f"Votes are public; your registration page on {self.site} shows who votes for you and whose votes\n"
            "reach you through the cascade in the reported count.\n")
        return message


def install_notices(app, site) -> NoticeBoard:
    """Keep a notice board on `app` (app.state.notices), mailing through the sign-in's mailer, claiming in its store;
    its loop runs while the app serves. Call it after install_auth."""
    from contextlib import asynccontextmanager

    sign_in = app.state.civitas_auth.sign_in

    def is_registrant(voter: str) -> bool:
        with site.lock:
            site.registry.catch_up()
            return bool(site.registry.attributes(voter))

    board = NoticeBoard(lambda after: site.log.read("vote", after=after), engine=sign_in.store.engine,
                        mailer=sign_in.mailer, is_registrant=is_registrant, site=site.settings.SITE,
                        mail_from=sign_in.settings.mail_from)
    app.state.notices = board
    loop = NoticeLoop(board)
    router_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a):
        loop.start()
        try:
            async with router_lifespan(a) as state:
                yield state
        finally:
            loop.stop()

    app.router.lifespan_context = lifespan
    return board


class NoticeLoop:
    """Looks at the vote stream every EVERY_S seconds in a thread of its own, so notices are mailed unasked."""

    def __init__(self, board: NoticeBoard, every: float = EVERY_S) -> None:
        self.board, self.every = board, every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="civitas-notices", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.board.catch_up()
            except Exception:  # noqa: BLE001 - a failed look is tried again at the next one
                log.warning("looking for vote notices failed", exc_info=True)
            self._stop.wait(self.every)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
