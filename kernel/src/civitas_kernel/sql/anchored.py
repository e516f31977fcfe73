"""Streams held from an anchor in an SQL log: taking a declared anchor inside ingest's transaction, and what reading
and verifying an anchored stream need (its head starts at the anchor; nothing at or before it is held)."""

from __future__ import annotations

from civitas_kernel.anchors import Anchor, open_anchor
from civitas_kernel.errors import IntegrityError
from civitas_kernel.log import Position


class AnchoredStreams:
    """Mixed into SqlEventLog: the `anchors` table and the rules for a declared anchor."""

    def anchor(self, stream: str, *, site: str | None = None) -> Anchor | None:
        rows = self._fetch("SELECT seq, hash, signed FROM anchors WHERE site = ? AND stream = ?",
                           site or self.site, stream)
        return Anchor(site or self.site, stream, rows[0][0], bytes(rows[0][1]), bytes(rows[0][2])) if rows else None

    def _anchor_in(self, cur, site: str, stream: str) -> Anchor | None:
        cur.execute(self._sql("SELECT seq, hash, signed FROM anchors WHERE site = ? AND stream = ?"), (site, stream))
        row = cur.fetchone()
        return Anchor(site, stream, row[0], bytes(row[1]), bytes(row[2])) if row else None

    def _take_anchor(self, cur, site: str, stream: str, public_key: bytes, signed: bytes) -> None:
        """Hold site/stream from a declared anchor if nothing of it is held; else check the anchor agrees with what
        is. The anchor must be signed by the site's `public_key`. Raises IntegrityError; the caller rolls back."""
        if site == self.site:
            raise IntegrityError(site, stream, None, "anchor refused: this site's own streams are held from position 1")
        declared = open_anchor(signed, site, stream, public_key)
        head, held = self._lock_head(cur, site, stream), self._anchor_in(cur, site, stream)
        if held is not None and (held.seq, held.hash) == (declared.seq, declared.hash):
            return
        if head.seq == 0 and held is None:
            cur.execute(self._sql("INSERT INTO anchors (site, stream, seq, hash, signed) VALUES (?, ?, ?, ?, ?)"),
                        (site, stream, declared.seq, declared.hash, declared.signed))
            self._insert_checkpoint(cur, site, stream, declared.seq, declared.signed)
            self._set_head(cur, site, stream, Position(declared.seq, declared.hash))
            return
        if held is not None and declared.seq < held.seq:
            raise IntegrityError(site, stream, declared.seq, f"anchor refused: this log holds {site}/{stream} from "
                                 f"its anchor at {held.seq}, so an anchor at {declared.seq} cannot be checked here; "
                                 f"declare the anchor at {held.seq} or none")
        if declared.seq > head.seq:
            return  # this log holds less than the anchor: the stream simply continues from what is held
        if held is not None and declared.seq == held.seq:
            at = held.hash
        else:
            cur.execute(self._sql("SELECT hash FROM events WHERE site = ? AND stream = ? AND seq = ?"),
                        (site, stream, declared.seq))
            at = bytes(cur.fetchone()[0])
        if at != declared.hash:
            raise IntegrityError(site, stream, declared.seq, "anchor refused: the declared anchor's hash differs "
                                 "from the event this log holds at that position (a split view, or a wrong anchor)")

    def _before_anchor(self, cur, site: str, stream: str, seq: int, own_hash: bytes) -> bool:
        """Whether an event offered at or before a stream's anchor is the anchor's own (skipped); refuses others."""
        held = self._anchor_in(cur, site, stream)
        if held is None or seq > held.seq:
            return False
        if seq == held.seq and own_hash == held.hash:
            return True
        raise IntegrityError(site, stream, seq, f"before the anchor: this log holds {site}/{stream} from its anchor "
                             f"at {held.seq}; positions 1..{held.seq} are not taken here")

