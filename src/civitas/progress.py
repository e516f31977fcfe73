"""Progress bars for long work, on standard error so output stays clean for pipes."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

stderr = Console(stderr=True, soft_wrap=True)  # messages stay whole lines, whatever the width


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """Yields advance(n); draws a bar only when standard error is a terminal."""
    if not stderr.is_terminal:
        yield lambda n: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=stderr, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


def render(renderable) -> str:
    """A rich table or panel as plain text, for output that may go to a pipe."""
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text().rstrip()
