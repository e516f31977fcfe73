"""Split views: a peer's signed heads compared with what this site holds, wherever they are seen (also from peers
that pull from this site), and a page that verifies under the origin's key but does not continue what is held; each
kept as evidence, both signed checkpoints, so two histories of one stream show within one exchange of heads."""

from __future__ import annotations

import base64
import io

from civitas_schema.v1 import envelope_pb2

from civitas_kernel.errors import IntegrityError, LogError
from civitas_kernel.log import Position
from civitas_kernel.segment import SegmentReader
from civitas_kernel.signing import open_checkpoint

from civitas_sync.domain.flows import served
from civitas_sync.reports import PullReport, StreamOutcome
from civitas_sync.serving import signed_at


class Witnessing:
    """The Puller's comparing side: reads self.log, self.peer, self.keys and the stream's checked anchor."""

    def witness(self) -> PullReport:
        """Only compare: read the heads of a peer this site does not pull from (its super-site, a peripheral site)
        and keep any other signed history of a stream this site holds as evidence. Nothing is fetched or added."""
        report = PullReport(self.peer.site, witnessed=True)
        for entry in self.heads()["streams"]:
            origin, stream = str(entry.get("origin")), str(entry.get("stream"))
            self._witness(report, origin, stream, entry, quiet=True)
            here = self.log.head(stream, site=origin).seq
            if here and served(stream):  # how far the peer has come in what this site holds: its lag behind us
                report.streams.append(StreamOutcome(origin, stream, int(entry.get("seq", 0)),
                                                    str(entry.get("hash", "")), local=here))
        return report

    def _witness(self, report: PullReport, origin: str, stream: str, entry: dict, quiet: bool = False) -> None:
        """A head this site does not pull is still compared with what it holds: a fork is evidence wherever seen."""
        key = self.log.key.public_key if origin == self.log.site else self.keys.get(origin)
        if key is None or not served(stream):
            return
        outcome = StreamOutcome(origin, stream, int(entry.get("seq", 0)), str(entry.get("hash", "")))
        try:
            signed, head = self._signed_head(outcome, entry, key)
            held = self.log.head(stream, site=origin)
            if held.seq >= head.seq:
                self._compare(outcome, signed, head)
            elif origin == self.log.site:  # this site's key signed positions it does not hold
                ours = signed_at(self.log, origin, stream, held.seq)
                outcome.evidence = {"origin": origin, "stream": stream, "seq": held.seq + 1,
                                    "theirs": base64.b64encode(signed.SerializeToString(deterministic=True)).decode(),
                                    "held_hash": held.hash.hex(),
                                    "ours": base64.b64encode(ours).decode() if ours else None}
                raise IntegrityError(origin, stream, held.seq + 1, f"split view: {self.peer.site} holds this site's "
                                     f"stream up to {head.seq}, signed with its key, past its own head {held.seq}: "
                                     "was this site restored from an old backup?")
        except (IntegrityError, LogError) as e:
            if outcome.evidence is not None or not quiet:
                report.refused.append(str(e))
        if outcome.evidence is not None:
            report.evidence.append(outcome.evidence)

    def _signed_head(self, outcome: StreamOutcome, entry: dict, key: bytes):
        origin, stream = outcome.origin, outcome.stream
        try:
            signed = envelope_pb2.SignedCheckpoint.FromString(base64.b64decode(entry["checkpoint"]))
        except (KeyError, ValueError, TypeError):
            raise LogError(f"{origin}/{stream}: the peer's head carries no signed checkpoint") from None
        except Exception:
            raise LogError(f"{origin}/{stream}: the peer's head checkpoint does not decode") from None
        head = open_checkpoint(signed, key)
        stated = (origin, stream, outcome.remote, outcome.remote_hash)
        if (head.site, head.stream, head.seq, head.head_hash.hex()) != stated:
            raise IntegrityError(origin, stream, outcome.remote,
                                 "forged: the peer's head is not what its checkpoint signs")
        return signed, head

    def _compare(self, outcome: StreamOutcome, signed, head) -> None:
        """The peer stands at or behind this site: it must agree on the event at its head."""
        held = next(iter(self.log.read(outcome.stream, site=outcome.origin, after=head.seq - 1, until=head.seq)), None)
        if head.seq and held is not None and held.hash != head.head_hash:
            mine = self.log.checkpoints_between(outcome.stream, site=outcome.origin, after=head.seq - 1, until=head.seq)
            outcome.evidence = {"origin": outcome.origin, "stream": outcome.stream, "seq": head.seq,
                                "theirs": base64.b64encode(signed.SerializeToString(deterministic=True)).decode(),
                                "held_hash": held.hash.hex(),
                                "ours": base64.b64encode(mine[head.seq]).decode() if head.seq in mine else None}
            raise IntegrityError(outcome.origin, outcome.stream, head.seq,
                                 f"split view: {self.peer.site} holds another event here than this site")

    def _fork(self, outcome: StreamOutcome, key: bytes, data: bytes, error: IntegrityError) -> bool:
        """A page that does not continue what this site holds: if it verifies on its own, under the origin's
        signature, the origin signed two histories of one stream, and both checkpoints are kept as evidence."""
        reader = SegmentReader(io.BytesIO(data), public_key=key)
        try:
            for r in reader.ranges():
                for _ in r.iter_events(decode=False):
                    pass
                theirs = r.checkpoint
        except (IntegrityError, LogError):
            return False  # not signed by the origin: a forgery on the way, not a split view
        head = self.log.head(outcome.stream, site=outcome.origin)
        ours = signed_at(self.log, outcome.origin, outcome.stream, head.seq)
        if ours is None and self._anchor is not None:  # nothing held yet: the declared anchor is what disagrees
            ours, head = self._anchor.signed, Position(self._anchor.seq, self._anchor.hash)
        outcome.evidence = {"origin": outcome.origin, "stream": outcome.stream, "seq": error.seq,
                            "theirs": base64.b64encode(theirs.SerializeToString(deterministic=True)).decode(),
                            "held_hash": head.hash.hex(),
                            "ours": base64.b64encode(ours).decode() if ours else None}
        return True
