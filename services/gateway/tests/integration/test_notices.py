"""Vote notices: made from the vote stream, mailed once by whichever gateway claims them first, never for history."""

from __future__ import annotations

from civitas_kernel.events import NewEvent, RecordedEvent
from civitas_kernel.sql.engine import create_engine
from civitas_schema.v1 import vote_pb2

from civitas_gateway.notices import NoticeBoard


class Log:
    def __init__(self) -> None:
        self.events: list[RecordedEvent] = []

    def append(self, message) -> None:
        new = NewEvent.of(message, "x")
        seq = len(self.events) + 1
        self.events.append(RecordedEvent("localhost", "vote", seq, "", new.type, new.actor, seq * 10**6, new.body,
                                         b"", b"", b""))

    def cast(self, voter: str, candidate: str) -> None:
        self.append(vote_pb2.VoteCast(poll="p", voter=voter, candidate=candidate))

    def withdraw(self, voter: str) -> None:
        self.append(vote_pb2.VoteWithdrawn(poll="p", voter=voter))

    def read(self, after: int):
        return iter(self.events[after:])


class Sent(list):
    def send(self, message) -> None:
        self.append((str(message["To"]), str(message["Subject"])))


def board(log: Log, engine, sent: Sent) -> NoticeBoard:
    return NoticeBoard(log.read, engine=engine, mailer=sent, is_registrant=lambda v: v != "nobody@x.org")


def test_gateways_side_by_side_mail_each_notice_once_and_never_the_history(tmp_path):
    log, sent = Log(), Sent()
    engine = create_engine(f"sqlite:///{tmp_path / 'gateway.sqlite'}")
    log.cast("a@x.org", "b@x.org")  # before notices ever started: history
    first, second = board(log, engine, sent), board(log, engine, sent)
    first.catch_up(), second.catch_up()
    assert sent == [] and [n.text() for n in first.for_candidate("b@x.org")] == ["a@x.org started voting for you in p"]

    log.cast("a@x.org", "c@x.org")
    log.cast("d@x.org", "nobody@x.org")
    log.withdraw("a@x.org")
    second.catch_up(), first.catch_up()
    assert sent == [("b@x.org", "a@x.org stopped voting for you in p"), ("c@x.org", "a@x.org started voting for you in p"),
                    ("c@x.org", "a@x.org stopped voting for you in p")]

    restarted = board(log, engine, sent)  # a restart folds the log again and mails nothing twice
    restarted.catch_up()
    assert len(sent) == 3
    assert [n.started for n in restarted.for_candidate("c@x.org")] == [False, True]  # newest first


def test_a_vote_cast_again_for_the_same_candidate_is_no_notice(tmp_path):
    log = Log()
    log.cast("a@x.org", "b@x.org")
    log.cast("a@x.org", "b@x.org")
    notices = NoticeBoard(log.read)
    assert notices.catch_up() == 1
