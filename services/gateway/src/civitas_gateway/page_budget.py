"""The work a page may take to draw: templates come from voters' proposals, so one with a huge loop must fail fast and
say so (a 503 naming the template, which fails the deployer's smoke request) rather than hang a worker.

Every loop iteration, call (a macro, a method, a helper), filter and intercepted operator is a step; a page may take
MAX_STEPS of them and MAX_CPU_S of its thread's CPU time, and write MAX_OUTPUT characters. Where one operation could
make a value far larger than its inputs (`*`, `**`, `%`, `str.format`, `|format`, `|replace`, a filter given a huge
width), the size is worked out first and refused beyond MAX_OUTPUT, so the value is never made; every concatenation's
and filter's result is measured too. What is not bounded: a single step's own work on values within those sizes (a
sort of 100 000 items), which the CPU limit catches at the next step, and the health window behind it all.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from jinja2 import nodes, pass_context
from jinja2.visitor import NodeTransformer

MAX_STEPS = 1_000_000
MAX_CPU_S = 2.0
MAX_OUTPUT = 16 * 1024 * 1024  # characters of a page, and of any one value drawn on the way
COUNTED, SIZED, SMALL = "civitas_counted", "civitas_sized", "civitas_small"  # filters the bounding adds
# A %-format or str.format field asking for a width or precision of a million or more, or one taken from the values.
_WIDE_PERCENT = re.compile(r"%(\([^)]*\))?[-+ #0]*(\*|\d{7,}|\d*\.(\*|\d{7,}))")
_WIDE_FORMAT = re.compile(r"\{[^{}]*:[^{}]*(\d{7,}|\{)")


class PageTooCostly(Exception):
    """A page went past its bound: `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Budget:
    max_steps: int = MAX_STEPS
    max_cpu_s: float = MAX_CPU_S
    max_output: int = MAX_OUTPUT
    steps: int = 0
    started: float = field(default_factory=time.thread_time)
    started_wall: float = field(default_factory=time.monotonic)

    def charge(self, steps: int = 1) -> None:
        self.steps += steps
        if self.steps > self.max_steps:
            raise PageTooCostly(f"it took more than {self.max_steps:,} steps (loop turns, calls, filters)")
        # the wall clock is cheap to read at every step; the thread's CPU clock only once that much time has passed
        if (time.monotonic() - self.started_wall > self.max_cpu_s
                and time.thread_time() - self.started > self.max_cpu_s):
            raise PageTooCostly(f"it took more than {self.max_cpu_s:g} s of processor time")

    def size(self, n: int, what: str = "a value") -> None:
        if n > self.max_output:
            raise PageTooCostly(f"{what} would be more than {self.max_output:,} characters")


_current: ContextVar[Budget | None] = ContextVar("civitas_page_budget", default=None)


def charge(steps: int = 1) -> None:
    budget = _current.get()
    if budget is not None:
        budget.charge(steps)


def measure(value: object, what: str = "a value") -> None:
    budget = _current.get()
    if budget is not None and isinstance(value, (str, bytes, list, tuple, dict, set, frozenset)):
        budget.size(len(value), what)


def draw(template, values: dict, budget: Budget) -> str:
    """The page `template` drawn from `values` within `budget`; raise PageTooCostly past it."""
    budget.started, budget.started_wall = time.thread_time(), time.monotonic()  # this thread's, from now
    token = _current.set(budget)
    try:
        written, parts = 0, []
        for part in template.generate(values):
            written += len(part)
            budget.size(written, "the page")
            budget.charge()
            parts.append(part)
        return "".join(parts)
    except RecursionError:
        raise PageTooCostly("its macros or loops call themselves too deeply") from None
    finally:
        _current.reset(token)


# -- what the bounded templates call (as filters that take the context, so Jinja never folds them while compiling) --

@pass_context
def counted(_context, iterable: Iterable) -> Iterator:
    """A loop's items, a step each."""
    for item in iterable:
        charge()
        yield item


@pass_context
def sized(_context, value):
    """A concatenation's or a filter's result, measured."""
    budget = _current.get()
    if budget is not None:
        budget.charge()
        if isinstance(value, (str, bytes, list, tuple, dict, set, frozenset)):
            budget.size(len(value))
    return value


@pass_context
def small(_context, value):
    """A filter's argument: a number beyond the output's size (a width, a count) could only make a page too large."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_OUTPUT:
        raise PageTooCostly(f"a filter was given {value:,}, more than the {MAX_OUTPUT:,} characters a page may have")
    return value


def check_format(text: str) -> None:
    """Refuse a format asking for a million-wide field before it is made."""
    if _WIDE_PERCENT.search(text) or _WIDE_FORMAT.search(text):
        raise PageTooCostly("a format asks for a field a million characters wide, or as wide as a value says")


def binop(operator: str, left, right, compute):
    """An intercepted operator: a step, and its result's size worked out before it is made where it can grow."""
    charge()
    if operator == "*":
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, (str, bytes, list, tuple)) and isinstance(n, int):
                measure_size(len(seq) * max(n, 0))
    elif operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > 0:
        measure_size(int(right * abs(left).bit_length() * 0.302) + 1, "a number's digits")  # log10(2) per bit
    elif operator == "%" and isinstance(left, str):
        check_format(left)
    result = compute(left, right)
    measure(result)
    return result


def measure_size(n: int, what: str = "a value") -> None:
    budget = _current.get()
    (budget or Budget()).size(n, what)


def check_replace(text: str, old: str, new: str, count=None) -> None:
    """Refuse a |replace whose result would be too large, before it is made."""
    times = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        times = min(times, count)
    measure_size(len(text) + times * (len(new) - len(old)))


class Bounding(NodeTransformer):
    """Rewrites a template's tree so its loops, concatenations and filters go through the bounds above."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        node = self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, COUNTED, [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        node = self.generic_visit(node)
        return nodes.Filter(node, SIZED, [], [], None, None, lineno=node.lineno)

    def visit_Filter(self, node: nodes.Filter) -> nodes.Node:
        node = self.generic_visit(node)
        if node.name in (COUNTED, SIZED, SMALL) or node.node is None:  # ours, or a {% filter %} block's
            return node
        node.args = [nodes.Filter(a, SMALL, [], [], None, None, lineno=node.lineno) for a in node.args]
        node.kwargs = [nodes.Keyword(k.key, nodes.Filter(k.value, SMALL, [], [], None, None, lineno=node.lineno),
                                     lineno=node.lineno) for k in node.kwargs]
        return nodes.Filter(node, SIZED, [], [], None, None, lineno=node.lineno)


__all__ = ["COUNTED", "SIZED", "SMALL", "Bounding", "Budget", "PageTooCostly", "binop", "charge", "check_format",
           "check_replace", "counted", "draw", "sized", "small"]
