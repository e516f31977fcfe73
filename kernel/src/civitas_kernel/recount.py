"""Compiling a cut from the very bytes that are verified: what `ready` and `audit` both do.

By default in one pass: the bulk verifier (bulk_verify) checks every event, checkpoint and the trailer, and
reads the events in columns from the same blocks as it goes; the compiler then gets those columns. Or, from
ALONGSIDE_FROM bytes of segment, on two cores: a forked worker verifies while this process reads the segment in
columns (unverified) and compiles. The worker touches nothing of the parent's but the segment's file (no logging,
no connections, no imports). On a machine whose cores are busy with other work the single pass does less work
in all, so it is the default. Either way nothing compiled is returned unless the verification passed; when both
fail, the verification's error is the one raised, since it names the problem.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from civitas_kernel.bulk_verify import verify_segment_bulk
from civitas_kernel.collector import collector_paused
from civitas_kernel.cut import Columns, Cut, open_window
from civitas_kernel.errors import IntegrityError, LogError, SegmentError
from civitas_kernel.growing import Growing
from civitas_kernel.heap import heap_kept
from civitas_kernel.log import Progress
from civitas_kernel.segment import SegmentSummary

ALONGSIDE_FROM: int | None = None  # bytes of segment from which it is verified in a worker alongside; None: never
# (the cut, the configuration, the results depended on) -> result bytes
Compiler = Callable[[Cut, bytes, dict[str, bytes]], bytes]
# Called with each range's stream and signed head once the range is verified; raises to refuse it.
RangeCheck = Callable[[str, bytes], None]


@dataclass(frozen=True)
class Verified:
    site: str
    ranges: list[tuple[str, int, int]]
    events: int
    columns: Columns | None = None  # read in the same pass, when verified in this process


@dataclass(frozen=True)
class Where:
    """A segment file, or a segment inside a file (an archive member), or one still being written (growing)."""

    path: Path
    offset: int = 0
    size: int | None = None
    growing: Growing | None = None

    def opener(self):
        if self.growing is not None:
            return self.growing.open
        return lambda: open_window(self.path, self.offset, self.size)


def compile_verified(compile: Compiler, where: Where, config: bytes, depends: dict[str, bytes], *,
                     public_key: bytes | None, check: Callable[[SegmentSummary], None] | None = None,
                     range_check: RangeCheck | None = None, progress: Progress | None = None,
                     refused: Callable[[Exception], Exception] = lambda e: e) -> tuple[bytes, Verified]:
    """compile(cut, config, depends) over the segment at `where`, and what was verified of it; see the module's doc.

    check: called with the segment's site and ranges before any event is verified, raising to refuse them;
    range_check likewise with each range's stream and signed head once that range is verified. Both must pickle
    (module functions, partials), for the worker. refused: what to raise for a verification's error (itself, by
    default).
    """
    with collector_paused(), heap_kept():  # millions of events in columns, no cycles: collections would only walk them
        return _compile_verified(compile, where, config, depends, public_key=public_key, check=check,
                                 range_check=range_check, progress=progress, refused=refused)


def _compile_verified(compile: Compiler, where: Where, config: bytes, depends: dict[str, bytes], *,
                      public_key: bytes | None, check, range_check, progress: Progress | None,
                      refused) -> tuple[bytes, Verified]:
    size = where.size if where.size is not None else os.path.getsize(where.path)
    if ALONGSIDE_FROM is None or where.growing is not None or size < ALONGSIDE_FROM:
        outcome = _verify(where, public_key, check, range_check, progress, columns=True)
        if isinstance(outcome, _Failure):
            raise refused(outcome.error())
        return compile(Cut(where.opener(), progress, columns=outcome.columns), config, depends), outcome
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
        verification = pool.submit(_verify, where, public_key, check, range_check)
        try:
            result, failure = compile(Cut(where.opener(), progress), config, depends), None
        except Exception as e:  # on a damaged segment, verification names the problem better
            result, failure = b"", e
        outcome = verification.result()
    if isinstance(outcome, _Failure):
        raise refused(outcome.error())
    if failure is not None:
        raise failure
    return result, outcome


@dataclass(frozen=True)
class _Failure:
    """An error sent back from the worker as its class and arguments (the log's errors do not pickle whole)."""

    kind: str
    args: tuple

    def error(self) -> Exception:
        from civitas_kernel.archive import ArchiveError

        return {"IntegrityError": IntegrityError, "ArchiveError": ArchiveError}.get(self.kind, SegmentError)(*self.args)


def _verify(where: Where, public_key: bytes | None, check, range_check, progress: Progress | None = None,
            columns: bool = False) -> Verified | _Failure:
    try:
        verified = verify_segment_bulk(where.opener(), public_key=public_key, before=check, after_range=range_check,
                                       progress=progress, columns=columns)
    except IntegrityError as e:
        return _Failure("IntegrityError", (e.site, e.stream, e.seq, e.problem))
    except LogError as e:
        return _Failure(type(e).__name__, (str(e),))
    return Verified(verified.summary.site, verified.summary.ranges, verified.summary.events, verified.columns)
