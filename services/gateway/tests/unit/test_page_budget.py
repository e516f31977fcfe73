"""The bound on a page's work: a template with a huge loop, a runaway macro, a value blown up by one operation or a
page too large stops with a reason; what templates ordinarily do draws exactly as before."""

from __future__ import annotations

import pytest
from jinja2 import DictLoader, Environment

from civitas_gateway.page_budget import Budget
from civitas_gateway.page_sandbox import PageSandbox, PageTooCostly

ORDINARY = (
    "{% macro item(x) %}<li>{{ x|upper }}</li>{% endmacro %}"
    "{% for p in polls if p.open %}{{ loop.index }}/{{ loop.length }}{{ item(p.name) }}"
    "{% if loop.last %}.{% endif %}{% else %}none{% endfor %}"
    "{% for n in tree recursive %}[{{ n.name }}{{ loop(n.children) }}]{% endfor %}"
    "{% filter upper %}shout {{ 'x' ~ 1 }}{% endfilter %}{% set ns = namespace(total=0) %}"
    "{% for k, v in counts|dictsort %}{% set ns.total = ns.total + v %}{{ k }}={{ v }};{% endfor %}{{ ns.total }}"
    "{{ '%s-%d'|format('a', 2) }}{{ 'a-b'|replace('-', '+') }}{{ '{}!'.format('hi') }}{{ 'ab' * 2 }}{{ 2 ** 10 }}"
    "{{ names|join(', ') }}{{ 'long text here'|truncate(9) }}{{ range(3)|list|length }}{{ '%5s' % 'r' }}"
)
VALUES = {"polls": [{"name": "mayor", "open": True}, {"name": "park", "open": False}, {"name": "pond", "open": True}],
          "tree": [{"name": "a", "children": [{"name": "b", "children": []}]}], "counts": {"y": 2, "x": 1},
          "names": ["ann", "bo"]}


def sandbox(**templates: str) -> PageSandbox:
    return PageSandbox(loader=DictLoader({f"{k}.html": v for k, v in templates.items()}), autoescape=True)


def stopped(env: PageSandbox, name: str, budget: Budget | None = None) -> str:
    with pytest.raises(PageTooCostly) as caught:
        env.draw(f"{name}.html", {}, budget)
    return caught.value.reason


def test_what_templates_ordinarily_do_draws_as_in_plain_jinja():
    plain = Environment(loader=DictLoader({"page.html": ORDINARY}), autoescape=True)
    assert sandbox(page=ORDINARY).draw("page.html", VALUES) == plain.get_template("page.html").render(VALUES)


def test_a_huge_loop_stops_at_its_step_bound_saying_so():
    env = sandbox(huge="{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                  fine="{% for i in range(100) %}{% endfor %}ok")
    assert stopped(env, "huge") == "it took more than 1,000,000 steps (loop turns, calls, filters)"
    assert stopped(env, "huge", Budget(max_steps=1000)) == "it took more than 1,000 steps (loop turns, calls, filters)"
    assert env.draw("fine.html", {}, Budget(max_steps=1000)) == "ok"
    assert env.draw("fine.html", {}, Budget(max_steps=1000)) == "ok"  # each page its own budget


def test_runaway_macros_stop_by_steps_processor_time_or_depth():
    env = sandbox(calls="{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
                        "{{ f(40) }}",
                  deep="{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
                  sorts="{% set xs = range(100000)|list|reverse|list %}{% for i in range(10000) %}"
                        "{{ (xs|sort|first) }}{% endfor %}")
    assert stopped(env, "calls", Budget(max_steps=10_000)) == (
        "it took more than 10,000 steps (loop turns, calls, filters)")
    assert stopped(env, "deep") == "its macros or loops call themselves too deeply"
    assert stopped(env, "sorts", Budget(max_cpu_s=0.2)) == "it took more than 0.2 s of processor time"


@pytest.mark.parametrize("source", [
    "{{ 'x' * 1000000000 }}", "{{ [1] * 1000000000 }}", "{{ 10 ** 1000000000 }}", "{{ 'x'|center(1000000000) }}",
    "{{ '%1000000000d' % 1 }}", "{{ '%*d' % (1000000000, 1) }}", "{{ '{:>1000000000}'.format(1) }}",
    "{{ '{:>1000000000}'['format'](1) }}", "{{ '{x:>1000000000}'.format_map({'x': 1}) }}",
    "{{ '%1000000000s'|format('a') }}", "{% set s = 'x' * 5000000 %}{{ s|replace('x', s) }}",
    "{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
])
def test_a_value_one_operation_would_blow_up_is_refused_before_it_is_made(source):
    reason = stopped(sandbox(big=source), "big")
    assert (reason.endswith(" characters") or reason.startswith("a format asks for a field a million characters wide")
            or reason.startswith("a filter was given 1,000,000,000")), reason


def test_a_page_larger_than_its_bound_stops():
    env = sandbox(out="{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}")
    assert stopped(env, "out", Budget(max_output=1_000_000)) == "the page would be more than 1,000,000 characters"
    assert len(env.draw("out.html", {})) == 10_000_000  # within the default 16 MiB
