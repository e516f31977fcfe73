"""Change page figures: drawing a proposal's page at the sizes its bounds allow.

Run: .venv/bin/python bench/change_pages.py

1. The diff: a 1,000-file patch of Python files, 5,000 lines in all (what the page draws at most), read from
   git's output and highlighted by Pygments, each side of each hunk as one text; then the page's unified and
   side-by-side tables rendered by the template.
2. The delegation graph: 300 links (the most the deployer sends) drawn as SVG, and the tally chart of 3 modules.
Each is the median of 5 runs, in ms.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).parent))

from common import median_ms, save, show  # noqa: E402

from civitas_gateway.change_charts import delegation_graph, tally_chart  # noqa: E402
from civitas_gateway.change_diff import parse_diff  # noqa: E402
from civitas_gateway.page_kit import templates  # noqa: E402


REQUEST = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(outbox=None)))  # what base.html reads


def big_diff(files: int = 1000, lines_per_file: int = 4) -> str:
    parts = []
    for i in range(files):
        body = "".join(f"+def f{i}_{j}(x):  # line {j}\n" for j in range(lines_per_file - 1)) + f'+S = "{i}"\n'
        parts.append(f"diff --git a/pages/m{i}.py b/pages/m{i}.py\nnew file mode 100644\n--- /dev/null\n"
                     f"+++ b/pages/m{i}.py\n@@ -0,0 +1,{lines_per_file} @@\n{body}")
    return "".join(parts)


def main() -> None:
    text = big_diff()
    diff = parse_diff(text)
    template = templates.env.get_template("change_proposal.html")
    p = {"proposal": "1", "title": "t", "proposer": "a@x.org", "revision": 1, "phase": "voting",
         "constitutional": False, "content_hash": "0" * 64, "base_commit": "1" * 40, "result_commit": "2" * 40,
         "thresholds": {"quorum": "0", "majority": "1/2", "strict": True}, "electorate": 1000, "decision": None,
         "voided": None, "tally": {}, "changed_paths": [], "ballot": None, "withdrawn": False}

    def page(view: str) -> str:
        return template.render(p=p, view=view, diff=diff, resolved=[], tally_svg="", graphs={}, voter=None,
                               site="bench", csrf="", request=REQUEST, message=None, error=None)

    voters = [f"v{i}@example.org" for i in range(301)]
    module = {"links": [[voters[i], voters[(i * 7 + 1) % 40]] for i in range(1, 301)], "links_left_out": 0,
              "voters": {v: {"vote": "yes", "how": "delegated", "scope": "*"} for v in voters}}
    tally = {m: {"yes": 600, "no": 300, "abstain": 50, "approved": True} for m in ("pages", "polls", "rules")}
    rows = [
        ["parse and highlight the diff (5,000 lines, 1,000 files)", median_ms(lambda: parse_diff(text))],
        ["render the unified page", median_ms(lambda: page("unified"))],
        ["render the side-by-side page", median_ms(lambda: page("split"))],
        ["draw the delegation graph (300 links)", median_ms(lambda: delegation_graph(module, voters[5]))],
        ["draw the tally chart (3 modules)", median_ms(lambda: tally_chart(tally, 1000))],
    ]
    show("The proposal page", ["what", "ms (median of 5)"], rows)
    save("change_pages", {row[0]: row[1] for row in rows})


if __name__ == "__main__":
    main()
