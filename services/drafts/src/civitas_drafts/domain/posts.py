"""Posts as lists of paragraphs, and amendments that keep every paragraph a post ever had.

An amended text keeps each original paragraph in place, marked deleted or replaced by the sibling that
follows it, and adds the new ones where the difference puts them; the order is a pure function of the old
entries and the new text, so every site derives the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher

from civitas_drafts.domain.errors import DraftError, TooLargeError

LIVE, DELETED, REPLACED = "live", "deleted", "replaced"
MAX_PARAGRAPHS = 100
MAX_PARAGRAPH_BYTES = 10_000
MAX_POST_BYTES = 100_000
MAX_ENTRIES = 1_000  # a post's paragraphs over all its amendments
MAX_ANCHOR_FILE, MAX_ANCHOR_HUNK, MAX_ANCHOR_REVISION = 1_000, 500, 128


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where in a text kept elsewhere a post answers: a file and hunk of a change proposal's diff, in one revision."""

    file: str
    hunk: str
    revision: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One paragraph's place in a post's text."""

    paragraph: str  # its hash
    status: str = LIVE
    replaces: str = ""  # a new paragraph: the one it stands in for
    replaced_by: str = ""  # a replaced paragraph: its sibling


@dataclass
class Item:
    """A post, or an alternative of one (another voter's amendment): either can be voted on."""

    id: str
    group: str  # where it was posted (an alternative: its post's group)
    author: str
    entries: tuple[Entry, ...]
    posted_at_us: int
    order: int  # its place among all items, in the order they were folded
    reply_to: str = ""
    reply_to_paragraph: str = ""
    amends: str = ""  # an alternative: the post it is an alternative of
    alternatives: list[str] = field(default_factory=list)
    revisions: int = 1
    anchor: Anchor | None = None

    @property
    def text(self) -> tuple[str, ...]:
        return tuple(e.paragraph for e in self.entries if e.status == LIVE)

    def has_paragraph(self, paragraph: str) -> bool:
        return any(e.paragraph == paragraph for e in self.entries)


def clean_paragraphs(texts: list[str]) -> list[str]:
    """The paragraphs of a new text, trimmed; TooLargeError or DraftError when they cannot be posted."""
    cleaned = [t.replace("\r\n", "\n").strip() for t in texts]
    cleaned = [t for t in cleaned if t]
    check_text(cleaned)
    return cleaned


def check_text(texts: list[str]) -> None:
    if not texts:
        raise DraftError("a post has at least one paragraph; write its text")
    if len(texts) > MAX_PARAGRAPHS:
        raise TooLargeError(f"a post has at most {MAX_PARAGRAPHS} paragraphs, not {len(texts)}")
    total = 0
    for text in texts:
        size = len(text.encode("utf-8"))
        if size > MAX_PARAGRAPH_BYTES:
            raise TooLargeError(f"a paragraph is at most {MAX_PARAGRAPH_BYTES:,} bytes; this one has {size:,}: "
                                "split it")
        if not text or text != text.strip() or "\x00" in text:
            raise DraftError("a paragraph is text without outer spaces or NUL characters")
        total += size
    if total > MAX_POST_BYTES:
        raise TooLargeError(f"a post is at most {MAX_POST_BYTES:,} bytes; this one has {total:,}: split it")


def check_anchor(anchor: Anchor) -> None:
    """A file and a revision, each one line of printable text within its limit (the hunk may be empty: the file)."""
    for what, value, limit, needed in (("file", anchor.file, MAX_ANCHOR_FILE, True),
                                       ("hunk", anchor.hunk, MAX_ANCHOR_HUNK, False),
                                       ("revision", anchor.revision, MAX_ANCHOR_REVISION, True)):
        if (needed and not value) or len(value) > limit or not value.isprintable():
            raise DraftError(f"a reply to a diff names its {what} in 1 to {limit} printable characters on one line")
    if anchor.revision != anchor.revision.strip() or " " in anchor.revision:
        raise DraftError("a reply to a diff names its revision by its content hash, without spaces")


def first_entries(paragraphs: list[str]) -> tuple[Entry, ...]:
    return tuple(Entry(p) for p in paragraphs)


def amended(entries: tuple[Entry, ...], new_text: list[str]) -> tuple[Entry, ...]:
    """The entries of a text amended to new_text: nothing erased, the new paragraphs beside the old."""
    live_at = [i for i, e in enumerate(entries) if e.status == LIVE]
    live = [entries[i].paragraph for i in live_at]
    if live == list(new_text):
        raise DraftError("the amended text is the same as the current one; nothing changed")
    before: dict[int, list[Entry]] = {}  # live index -> new entries placed just before it
    after: dict[int, list[Entry]] = {}  # live index -> new entries placed just after it
    marked: dict[int, Entry] = {}
    matcher = SequenceMatcher(None, live, list(new_text), autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "delete":
            marked.update({i: replace(entries[live_at[i]], status=DELETED) for i in range(i1, i2)})
        elif op == "insert":
            before.setdefault(i1, []).extend(Entry(p) for p in new_text[j1:j2])
        elif op == "replace":
            _pair_siblings(entries, live_at, new_text, (i1, i2, j1, j2), marked, after)
    result: list[Entry] = []
    live_index = 0
    for i, entry in enumerate(entries):
        if entry.status != LIVE:
            result.append(entry)
            continue
        result.extend(before.get(live_index, ()))
        result.append(marked.get(live_index, entry))
        result.extend(after.get(live_index, ()))
        live_index += 1
    result.extend(before.get(live_index, ()))
    if len(result) > MAX_ENTRIES:
        raise TooLargeError(f"a post keeps at most {MAX_ENTRIES:,} paragraphs over all its amendments; "
                            "write a new post instead")
    return tuple(result)


def _pair_siblings(entries, live_at, new_text, span, marked, after) -> None:
    """Old paragraph k of a replaced run is followed by new paragraph k, its sibling; extra new ones follow."""
    i1, i2, j1, j2 = span
    olds, news = i2 - i1, j2 - j1
    for k in range(olds):
        old = entries[live_at[i1 + k]]
        if k < news:
            marked[i1 + k] = replace(old, status=REPLACED, replaced_by=new_text[j1 + k])
            after.setdefault(i1 + k, []).append(Entry(new_text[j1 + k], replaces=old.paragraph))
        else:
            marked[i1 + k] = replace(old, status=DELETED)
    after.setdefault(i2 - 1, []).extend(Entry(p) for p in new_text[j1 + olds:j2])
