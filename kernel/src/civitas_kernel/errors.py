"""Errors of the log. Each says where the problem is and what to do about it."""

from __future__ import annotations


class LogError(Exception):
    """Base of every error the log raises."""


class InvalidAppendError(LogError):
    """An append that can never succeed as asked (empty batch, bad stream name, key reused elsewhere)."""


class ConcurrencyError(LogError):
    """Another writer moved the stream since the caller read it; re-read and decide again."""

    def __init__(self, site: str, stream: str, expected: int, actual: int) -> None:
        self.site, self.stream, self.expected, self.actual = site, stream, expected, actual
        super().__init__(
            f"{site}/{stream}: expected the stream at position {expected}, but it is at {actual}; "
            "read the new events and retry the command"
        )


class IntegrityError(LogError):
    """An event or checkpoint that fails verification, named by where it stands and what is wrong."""

    def __init__(self, site: str, stream: str, seq: int | None, problem: str) -> None:
        self.site, self.stream, self.seq, self.problem = site, stream, seq, problem
        where = f"{site}/{stream}" + (f" at position {seq}" if seq is not None else "")
        super().__init__(f"{where}: {problem}")


class SegmentError(LogError):
    """A segment file that is not whole or not a segment at all (problems not tied to one event)."""
