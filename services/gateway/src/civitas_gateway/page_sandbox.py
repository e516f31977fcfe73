"""The sandbox every page is drawn in: templates from the live release come from voters' proposals, so nothing a
template can name may reach Python's internals, the site's objects, its settings or its secrets.

Jinja2's ImmutableSandboxedEnvironment already refuses attributes starting with `_`, the internals of functions
and frames, and methods that change a list or a dict. On top of it, attributes are read only on plain values
(text, numbers, lists, dicts) and on the data classes the pages hand their templates (`DATA_CLASSES`,
`page_data`); anything else — a request, the site, a command layer — answers nothing, and
calling it is refused. A template naming an underscore attribute is refused before it is ever drawn. Every page is
drawn within a bound of its work and size (page_budget.py), so a template with a huge loop fails fast, saying so.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from types import ModuleType

from jinja2 import nodes, pass_eval_context
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Cycler, Joiner, Namespace

from civitas_gateway import page_budget
from civitas_gateway.page_budget import Budget, PageTooCostly

PLAIN = (str, int, float, bool, type(None), list, tuple, dict, set, frozenset, date, datetime, bytes)
DATA_TYPES: set[type] = set()  # the data classes pages hand their templates; each page module adds its own


def page_data(cls: type) -> type:
    """Mark a class whose instances pages hand their templates: its public attributes and methods may be read."""
    DATA_TYPES.add(cls)
    return cls


# The data classes the pages hand their templates (found by drawing every page in the tests); no other object's
# attributes are read, so a class holding a store, a mailer or a key never answers a template, even if passed.
DATA_CLASSES = {
    "civitas_gateway.auth.totp.Enrolment", "civitas_gateway.change_diff.FileDiff", "civitas_gateway.change_diff.Hunk",
    "civitas_gateway.change_diff.Line", "civitas_gateway.change_diff.RenderedDiff", "civitas_gateway.notices.Notice",
    "civitas_gateway.change_hunks.HunkReplies", "civitas_gateway.change_hunks.HunkReply",
    "civitas_gateway.standing.PollStanding", "civitas_gateway.standing.Standing",
    "civitas_kernel.count_result.PollCount", "civitas_kernel.records.Record", "civitas_polls.domain.polls.PollConfig",
    "civitas_registry.domain.standing.LevelExplained",
}


def _is_data(obj: object) -> bool:
    kind = type(obj)
    if kind in DATA_TYPES:
        return True
    if isinstance(obj, tuple) and hasattr(kind, "_fields"):  # a named tuple: plain data
        return True
    if kind.__module__ in ("jinja2.runtime", "jinja2.utils", "markupsafe"):  # loop, self, super(), namespace, Markup
        return True
    return f"{kind.__module__}.{kind.__qualname__}" in DATA_CLASSES  # a template can make no class of its own


class PageSandbox(ImmutableSandboxedEnvironment):
    """Attributes only of plain values and page data; calls only of their methods and of the pages' helpers; every
    loop turn, call, filter and operator a step of the page's budget."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})  # the operators that can make a value far larger

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        replace, format_ = self.filters["replace"], self.filters["format"]

        @pass_eval_context
        def bounded_replace(eval_ctx, s, old, new, count=None):
            page_budget.check_replace(str(s), str(old), str(new), count)
            return replace(eval_ctx, s, old, new, count)

        def bounded_format(value, *args, **kwargs):
            page_budget.check_format(str(value))
            return format_(value, *args, **kwargs)

        self.filters.update({"replace": bounded_replace, "format": bounded_format, page_budget.COUNTED:
                             page_budget.counted, page_budget.SIZED: page_budget.sized,
                             page_budget.SMALL: page_budget.small})

    def _parse(self, source, name, filename):
        return page_budget.Bounding().visit(super()._parse(source, name, filename))

    def draw(self, name: str, values: dict, budget: Budget | None = None) -> str:
        """The page `name` drawn from `values`; PageTooCostly if it goes past `budget` (default: page_budget's)."""
        return page_budget.draw(self.get_template(name), values, budget or Budget())

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - the sandbox's own signature
        page_budget.charge()
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context, operator, left, right):
        return page_budget.binop(operator, left, right, self.binop_table[operator])

    def wrap_str_format(self, value):
        wrapped = super().wrap_str_format(value)  # a string's format or format_map, as an attribute or an item
        if wrapped is not None:
            page_budget.check_format(str(value.__self__))
        return wrapped

    def is_safe_attribute(self, obj, attr, value) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        return isinstance(obj, PLAIN) or _is_data(obj)

    def getitem(self, obj, argument):
        if not (isinstance(obj, PLAIN) or _is_data(obj)):  # a request or a settings object is a mapping too
            return self.undefined(obj=obj, name=argument)
        return super().getitem(obj, argument)

    def is_safe_callable(self, obj) -> bool:
        if not super().is_safe_callable(obj):
            return False
        if isinstance(obj, type):
            return obj in SAFE_CLASSES
        owner = getattr(obj, "__self__", None)
        if owner is not None and not isinstance(owner, (type, ModuleType)):  # a bound method: of plain or page data
            return isinstance(owner, PLAIN) or _is_data(owner)
        return True


SAFE_CLASSES = {dict, range, str, int, list, Namespace, Cycler, Joiner}  # what templates may make


def refused_names(source: str, env: PageSandbox, name: str) -> Iterator[str]:
    """What in the template's text reaches an internal (`x.__class__`, `x['_y']`), each as a sentence."""
    tree = env.parse(source, name)
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        attr = node.attr if isinstance(node, nodes.Getattr) else (
            node.arg.value if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str) else None)
        if attr is not None and attr.startswith("_"):
            yield f"{name} line {node.lineno} reaches {attr!r}, an internal no template may name"


__all__ = ["DATA_TYPES", "PageSandbox", "PageTooCostly", "SecurityError", "page_data", "refused_names"]
