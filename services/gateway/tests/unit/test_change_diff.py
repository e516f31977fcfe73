"""A proposal's diff as its page draws it: files and hunks read from git's output, each side highlighted for its
language with the lines around it, deletions beside the additions that replace them, long diffs cut saying so."""

from __future__ import annotations

from civitas_gateway.change_charts import delegation_graph, tally_chart
from civitas_gateway.change_diff import parse_diff

DIFF = """diff --git a/pages/app.py b/pages/app.py
index 1111111..2222222 100644
--- a/pages/app.py
+++ b/pages/app.py
@@ -1,4 +1,4 @@
 x = '''a
-b'''
+c'''
 def f():
-    return 1
+    return 2
diff --git a/pages/new.md b/pages/new.md
new file mode 100644
--- /dev/null
+++ b/pages/new.md
@@ -0,0 +1 @@
+<script>alert(1)</script>
"""


def test_files_hunks_and_line_numbers_are_read_from_gits_diff():
    diff = parse_diff(DIFF)
    assert [(f.path, f.status, f.counts) for f in diff.files] == [("pages/app.py", "changed", (2, 2)),
                                                                   ("pages/new.md", "added", (1, 0))]
    lines = diff.files[0].hunks[0].lines
    assert [(x.kind, x.old, x.new) for x in lines] == [("context", 1, 1), ("del", 2, None), ("add", None, 2),
                                                         ("context", 3, 3), ("del", 4, None), ("add", None, 4)]
    assert not diff.cut


def test_a_string_spanning_lines_stays_a_string_on_each_side_and_nothing_is_left_unescaped():
    diff = parse_diff(DIFF)
    deleted, added = diff.files[0].hunks[0].lines[1:3]
    assert (deleted.html, added.html) == ('<span class="s1">b\'\'\'</span>', '<span class="s1">c\'\'\'</span>')
    assert diff.files[1].hunks[0].lines[0].html == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_side_by_side_puts_each_deletion_beside_its_replacement():
    file = parse_diff(DIFF).files[0]
    rows = [(a.kind if a else None, b.kind if b else None) for a, b in file.side_by_side(file.hunks[0])]
    assert rows == [("context", "context"), ("del", "add"), ("context", "context"), ("del", "add")]
    added_only = parse_diff(DIFF).files[1]
    assert [(a, b.kind) for a, b in added_only.side_by_side(added_only.hunks[0])] == [(None, "add")]


def test_a_diff_longer_than_the_page_draws_is_cut_and_says_so():
    long = "diff --git a/a.txt b/a.txt\n@@ -0,0 +1,50 @@\n" + "".join(f"+line {i}\n" for i in range(50))
    diff = parse_diff(long, max_lines=10)
    assert len(diff.files[0].hunks[0].lines) == 10 and diff.cut


def test_the_charts_escape_names_and_mark_my_chain():
    svg = tally_chart({"<pages>": {"yes": 2, "no": 1, "abstain": 0, "approved": True}}, 5)
    assert "&lt;pages&gt;" in svg and "<pages>" not in svg and "approved" in svg
    module = {"links": [["carol@x.org", "bob@x.org"], ["dave@x.org", "carol@x.org"], ["erin@x.org", "bob@x.org"]],
              "links_left_out": 0, "voters": {"bob@x.org": {"vote": "yes", "how": "direct", "scope": ""}}}
    graph = delegation_graph(module, "dave@x.org")
    assert graph.count('class="edge mine"') == 2  # dave -> carol -> bob; erin's link is not mine
    assert 'class="node vote-yes" data-voter="bob@x.org"' not in graph  # bob is on my chain
    assert 'data-voter="bob@x.org"' in graph and 'class="node vote-none mine me" data-voter="dave@x.org"' in graph
