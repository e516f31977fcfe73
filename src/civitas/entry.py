"""The console scripts: a command that compiles records starts again with glibc's heap on huge pages
(civitas_kernel.huge_pages) before the command line proper (civitas.cli) is even imported."""

from __future__ import annotations

import sys

from civitas_kernel.huge_pages import run_again_on_huge_pages

# The commands that compile voter lists and counts (or run a site that does), by their first word.
COMPILING = frozenset({"list", "count", "audit", "up", "serve", "sim"})


def _start(args: list[str]) -> None:
    if args and args[0] in COMPILING:
        run_again_on_huge_pages()
    from civitas.cli import main

    sys.exit(main(args))


def run() -> None:
    _start(sys.argv[1:])


# Votorola's names for the same commands.
def run_list() -> None:
    _start(["list", *sys.argv[1:]])


def run_count() -> None:
    _start(["count", *sys.argv[1:]])


def run_voter() -> None:
    _start(["voter", *sys.argv[1:]])
