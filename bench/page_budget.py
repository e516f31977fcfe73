"""What bounding a page's work costs, and how soon a runaway template is stopped.

Run: .venv/bin/python bench/page_budget.py [--quick]

1. A loop-heavy page (a table of N rows, a macro call, a filter and an operator per row) drawn in the page sandbox
   with its bounds and in Jinja's plain immutable sandbox (ms, median of 20 draws), and the steps it took.
2. A template with a 10^10-turn loop, and one with an exponential macro, each stopped at the bound (ms).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import median_ms, save, show  # noqa: E402
from jinja2 import DictLoader  # noqa: E402
from jinja2.sandbox import ImmutableSandboxedEnvironment  # noqa: E402

from civitas_gateway.page_budget import Budget  # noqa: E402
from civitas_gateway.page_sandbox import PageSandbox, PageTooCostly  # noqa: E402

TABLE = ("{% macro cell(x) %}<td>{{ x|e }}</td>{% endmacro %}<table>{% for r in rows %}<tr>{{ cell(r.name|upper) }}"
         "<td>{{ r.votes * 2 + 1 }}</td>{% if loop.last %}<td>last</td>{% endif %}</tr>{% endfor %}</table>")
RUNAWAY = {"loop": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
           "macro": "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}"}


def main() -> None:
    quick = "--quick" in sys.argv
    draws = 5 if quick else 20
    templates = {"table.html": TABLE, **{f"{k}.html": v for k, v in RUNAWAY.items()}}
    bounded = PageSandbox(loader=DictLoader(templates), autoescape=True)
    plain = ImmutableSandboxedEnvironment(loader=DictLoader(templates), autoescape=True)
    rows, figures = [], {}
    for n in (100, 1_000, 10_000):
        values = {"rows": [{"name": f"voter {i}", "votes": i} for i in range(n)]}
        budget = Budget()
        assert bounded.draw("table.html", values, budget) == plain.get_template("table.html").render(values)
        with_bounds = median_ms(lambda: bounded.draw("table.html", values), draws)
        without = median_ms(lambda: plain.get_template("table.html").render(values), draws)
        rows.append([f"{n:,} rows", with_bounds, without, budget.steps])
        figures[f"table_{n}"] = {"bounded_ms": with_bounds, "plain_ms": without, "steps": budget.steps}
    show("a loop-heavy page (ms, median)", ["page", "bounded", "plain sandbox", "steps"], rows)

    stopped = []
    for name in RUNAWAY:
        started = time.perf_counter()
        try:
            bounded.draw(f"{name}.html", {})
            raise AssertionError(f"{name} was not stopped")
        except PageTooCostly as error:
            took = 1000 * (time.perf_counter() - started)
            stopped.append([name, took, error.reason])
            figures[f"runaway_{name}_ms"] = took
    show("runaway templates stopped at the bound", ["template", "ms", "why"], stopped)
    save("page_budget", figures)


if __name__ == "__main__":
    main()
