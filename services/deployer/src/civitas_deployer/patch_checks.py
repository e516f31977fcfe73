"""What a proposal may not contain, checked on git's own reading of the patch and of the tree it makes."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import NamedTuple

from civitas_kernel.commands import CommandError

SUBMODULE, SYMLINK = "160000", "120000"


class PatchRefused(CommandError):
    """The patch cannot become a proposal; the message says why and what to do."""


class Entry(NamedTuple):
    new_mode: str
    new_blob: str
    status: str
    path: str


def _path_problem(path: str) -> str:
    segments = path.split("/")
    if not path or path.startswith("/") or any(s in ("", ".", "..") for s in segments):
        return "lies outside the repository"
    if any(ord(c) < 32 or c == "\x7f" for c in path) or "," in path:
        return "has a control character or a comma in its name"
    if any(s.lower() == ".git" for s in segments):
        return "is inside .git"
    return ""


def _numstat_records(data: bytes) -> list[tuple[str, str, list[str]]]:
    """(added, deleted, paths) from `--numstat -z`: one path, or for a rename an empty field then two."""
    fields = data.split(b"\0")
    records, i = [], 0
    while i < len(fields) and fields[i]:
        added, deleted, path = fields[i].decode(errors="replace").split("\t", 2)
        if path:
            records.append((added, deleted, [path]))
            i += 1
        else:
            records.append((added, deleted, [fields[i + 1].decode(errors="replace"),
                                             fields[i + 2].decode(errors="replace")]))
            i += 3
    return records


def check_patch_paths(numstat: bytes, where: str) -> None:
    """Before applying: no path outside the tree, none with control characters, no binary file."""
    for added, deleted, paths in _numstat_records(numstat):
        for path in paths:
            problem = _path_problem(path)
            if problem:
                raise PatchRefused(f"{where}: the path {path!r} {problem}; a change may touch only files "
                                   "of the live repository")
        if added == "-" and deleted == "-":
            raise PatchRefused(f"{where}: {paths[-1]} is a binary file; proposals hold text only, so every "
                               "voter can read what they vote on")


def parse_diff_tree(listing: bytes) -> tuple[list[Entry], bytes]:
    """The entries of `git diff-tree -r -z --raw --numstat` (':oldmode newmode oldblob newblob status', then the
    path), and the numstat records that follow them."""
    fields = listing.split(b"\0")
    entries, i = [], 0
    while i + 1 < len(fields) and fields[i].startswith(b":"):
        _old_mode, new_mode, _old_blob, new_blob, status = fields[i][1:].decode().split(" ")
        entries.append(Entry(new_mode, new_blob, status, fields[i + 1].decode(errors="replace")))
        i += 2
    return entries, b"\0".join(fields[i:])


def check_result(entries: list[Entry], numstat: bytes, blobs: Mapping[str, bytes | None]) -> None:
    """After applying: no submodule, no symlink leading out of the tree, no binary content, no odd path."""
    for entry in entries:
        problem = _path_problem(entry.path)
        if problem:
            raise PatchRefused(f"the path {entry.path!r} {problem}; a change may touch only files of the "
                               "live repository")
        if entry.status == "D":
            continue
        if entry.new_mode == SUBMODULE:
            raise PatchRefused(f"{entry.path} is a submodule; proposals may not bring in other repositories — "
                               "put the files themselves in the change")
        if entry.new_mode == SYMLINK:
            target = (blobs[entry.new_blob] or b"").decode(errors="replace")
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(entry.path), target))
            if target.startswith("/") or resolved == ".." or resolved.startswith("../"):
                raise PatchRefused(f"the symbolic link {entry.path} points outside the repository (to {target}); "
                                   "links may point only to files of the live repository")
    for added, deleted, paths in _numstat_records(numstat):
        if added == "-" and deleted == "-":
            raise PatchRefused(f"{paths[-1]} is a binary file; proposals hold text only, so every voter can "
                               "read what they vote on")
