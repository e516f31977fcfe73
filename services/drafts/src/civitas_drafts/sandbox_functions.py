"""Stand-ins for the SQLite functions whose one call can run for seconds, where no deadline can stop it.

SQLite checks its progress handler between the steps of a statement, never inside a function call. Its
instr and replace compare the pattern at every position (a 500 kB pattern in a 1 MB text: billions of
byte comparisons), its trim looks up each character in the whole set given, and printf's %c repeats one
character at a time up to any width. These stand-ins give the same answers in linear time, or refuse.
"""

from __future__ import annotations

import re
import sqlite3

PRINTF_SPEC = re.compile(r"%[-+ 0#!,]*(\*|\d+)?(?:\.(\*|\d+))?l{0,2}([a-zA-Z%]?)")
MAX_PRINTF_WIDTH = 10_000


class TooLarge(ValueError):
    pass


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else str(value)


def _integer(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return 0


class SafeFunctions:
    """The stand-ins of one query's connection; `problem` says why one refused."""

    def __init__(self, max_length: int) -> None:
        self.max_length = max_length
        self.problem = ""
        self._printer: sqlite3.Connection | None = None

    def register(self, connection: sqlite3.Connection) -> None:
        for name in ("printf", "format"):
            connection.create_function(name, -1, self.printf, deterministic=True)
        connection.create_function("instr", 2, self.instr, deterministic=True)
        connection.create_function("replace", 3, self.replace, deterministic=True)
        for name, strip in (("trim", _strip_both), ("ltrim", _strip_left), ("rtrim", _strip_right)):
            connection.create_function(name, 2, self._trim(strip), deterministic=True)

    def close(self) -> None:
        if self._printer is not None:
            self._printer.close()

    def _refuse(self, message: str):
        self.problem = message
        raise TooLarge(message)

    def printf(self, form, *args):
        """SQLite's own printf, once the widths and precisions are known to be small."""
        if not isinstance(form, str):
            return None
        at, total = 0, 0
        for width, precision, kind in PRINTF_SPEC.findall(form):
            for part in (width, precision):
                size = abs(_integer(args[at] if at < len(args) else 0) if part == "*" else int(part or 0))
                at += part == "*"
                total += size
                if size > MAX_PRINTF_WIDTH or total > self.max_length:
                    self._refuse(f"printf widths and precisions are at most {MAX_PRINTF_WIDTH:,} each, "
                                 f"{self.max_length:,} in all")
            at += kind not in ("%", "")
        if self._printer is None:
            self._printer = sqlite3.connect(":memory:")
            self._printer.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, self.max_length)
        marks = ", ".join("?" * (len(args) + 1))
        return self._printer.execute(f"SELECT printf({marks})", (form, *args)).fetchone()[0]

    def instr(self, haystack, needle):
        if haystack is None or needle is None:
            return None
        if isinstance(haystack, bytes) and isinstance(needle, bytes):
            return haystack.find(needle) + 1
        return _text(haystack).find(_text(needle)) + 1

    def replace(self, text, pattern, replacement):
        if text is None or pattern is None or replacement is None:
            return None
        old = _text(pattern).encode("utf-8")
        if not old:
            return text
        source, new = _text(text).encode("utf-8"), _text(replacement).encode("utf-8")
        size = len(source) + source.count(old) * (len(new) - len(old))
        if size > self.max_length:
            self._refuse(f"replace would make a text of {size:,} bytes; a value is at most {self.max_length:,}")
        return source.replace(old, new).decode("utf-8", "replace")

    @staticmethod
    def _trim(strip):
        def trim(text, characters):
            if text is None or characters is None:
                return None
            return strip(_text(text), frozenset(_text(characters)))
        return trim


def _strip_left(text: str, characters: frozenset[str]) -> str:
    start = 0
    while start < len(text) and text[start] in characters:
        start += 1
    return text[start:]


def _strip_right(text: str, characters: frozenset[str]) -> str:
    end = len(text)
    while end > 0 and text[end - 1] in characters:
        end -= 1
    return text[:end]


def _strip_both(text: str, characters: frozenset[str]) -> str:
    return _strip_right(_strip_left(text, characters), characters)
