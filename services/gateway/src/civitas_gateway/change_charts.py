"""Pictures of a change proposal, drawn as SVG on the server: the tally per module as bars, and who follows whom.

Like charts.py: no script, no inline style (classes only, coloured by site.css and change.css), every name escaped.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape

ROW, LABEL, WIDTH = 34, 150, 720
VERDICT = 300  # room right of the bars for "yes N · no N · abstain N: not approved"
NODE_GAP, LAYER_GAP, RADIUS = 130, 80, 9
CHOICES = ("yes", "no", "abstain")


def tally_chart(tally: dict[str, dict], electorate: int) -> str:
    """One bar per module: yes, no and abstain side by side as parts of the electorate, and the module's verdict."""
    if not tally:
        return '<p class="empty">No module is touched.</p>'
    scale = (WIDTH - LABEL - VERDICT) / max(electorate, max(sum(t[c] for c in CHOICES) for t in tally.values()), 1)
    rows = []
    for i, (module, t) in enumerate(tally.items()):
        y, x = 6 + i * ROW, LABEL
        parts = [f'<text x="{LABEL - 8}" y="{y + 18}" text-anchor="end">{escape(module)}</text>',
                 f'<rect class="electorate" x="{LABEL}" y="{y + 4}" width="{electorate * scale:.1f}" '
                 f'height="{ROW - 12}"><title>electorate {electorate}</title></rect>']
        for choice in CHOICES:
            width = t[choice] * scale
            if width:
                parts.append(f'<rect class="vote-{choice}" x="{x:.1f}" y="{y + 4}" width="{width:.1f}" '
                             f'height="{ROW - 12}"><title>{choice} {t[choice]}</title></rect>')
            x += width
        verdict = "approved" if t["approved"] else "not approved"
        parts.append(f'<text class="verdict" x="{LABEL + electorate * scale + 8:.1f}" y="{y + 18}">'
                     f'yes {t["yes"]} · no {t["no"]} · abstain {t["abstain"]}: {verdict}</text>')
        rows.append(f'<g class="module" data-module="{escape(module)}">{"".join(parts)}</g>')
    height = ROW * len(tally) + 12
    return (f'<svg class="chart tally" role="img" aria-label="the tally per module" viewBox="0 0 {WIDTH} {height}" '
            f'width="{WIDTH}" height="{height}">{"".join(rows)}</svg>')


def _layers(links: list[list[str]], nodes: set[str]) -> dict[str, int]:
    """Depth from where votes come to rest: a voter nobody in the drawing follows is on top, their followers below."""
    follows: dict[str, list[str]] = defaultdict(list)
    for who, delegate in links:
        follows[who].append(delegate)
    depth: dict[str, int] = {}
    for node in sorted(nodes):
        stack, seen = [(node, 0)], set()
        best = 0
        while stack:  # the longest chain up from node, cycles cut where they close
            at, d = stack.pop()
            best = max(best, d)
            for up in follows.get(at, ()):
                if (at, up) not in seen:
                    seen.add((at, up))
                    stack.append((up, d + 1))
            if len(seen) > 2000:
                break
        depth[node] = best
    return depth


def delegation_graph(module: dict, me: str | None) -> str:
    """Who follows whom in one module: arrows point to the delegate; each voter's circle shows their resolved vote;
    my chain (and me) drawn heavier."""
    links, voters = module["links"], module["voters"]
    nodes = {v for link in links for v in link} | ({me} if me in voters else set())
    if not nodes:
        return '<p class="empty">Nobody delegates in this module: every vote here is cast directly.</p>'
    depth = _layers(links, nodes)
    rows: dict[int, list[str]] = defaultdict(list)
    for node in sorted(nodes, key=lambda n: (depth[n], n)):
        rows[depth[node]].append(node)
    widest = max(len(r) for r in rows.values())
    width, height = max(widest * NODE_GAP + 40, 300), len(rows) * LAYER_GAP + 40
    at = {node: (20 + NODE_GAP / 2 + i * NODE_GAP + (widest - len(row)) * NODE_GAP / 2, 30 + d * LAYER_GAP)
          for d, row in rows.items() for i, node in enumerate(row)}
    mine = _chain_links(links, me)
    parts = ['<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
             'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/></marker></defs>']
    for who, delegate in links:
        (x1, y1), (x2, y2) = at[who], at[delegate]
        cls = "edge mine" if (who, delegate) in mine else "edge"
        parts.append(f'<line class="{cls}" data-from="{escape(who)}" data-to="{escape(delegate)}" x1="{x1:.0f}" '
                     f'y1="{y1 - RADIUS:.0f}" x2="{x2:.0f}" y2="{y2 + RADIUS:.0f}" marker-end="url(#arrow)"/>')
    on_chain = {v for link in mine for v in link} | ({me} if me else set())
    for node, (x, y) in sorted(at.items()):
        r = voters.get(node)
        vote = r["vote"] if r and r["vote"] else "none"
        classes = ["node", f"vote-{vote}"] + (["mine"] if node in on_chain else []) + (["me"] if node == me else [])
        how = f"{vote} ({r['how']})" if r else "outside the electorate"
        label = escape(node.split("@")[0])
        parts.append(f'<g class="{" ".join(classes)}" data-voter="{escape(node)}"><title>{escape(node)}: {escape(how)}'
                     f'</title><circle cx="{x:.0f}" cy="{y:.0f}" r="{RADIUS}"/>'
                     f'<text x="{x:.0f}" y="{y - RADIUS - 6:.0f}" text-anchor="middle">{label}</text></g>')
    note = "" if not module["links_left_out"] else \
        f'<p class="note">{module["links_left_out"]} more delegations are not drawn: yours and those near you are.</p>'
    return (f'<svg class="graph delegations" role="img" aria-label="who follows whom" viewBox="0 0 {width:.0f} '
            f'{height}" width="{width:.0f}" height="{height}">{"".join(parts)}</svg>{note}')


def _chain_links(links: list[list[str]], me: str | None) -> set[tuple[str, str]]:
    """The links my vote follows, transitively."""
    if not me:
        return set()
    follows: dict[str, list[str]] = defaultdict(list)
    for who, delegate in links:
        follows[who].append(delegate)
    found, queue, seen = set(), [me], {me}
    while queue:
        who = queue.pop()
        for d in follows.get(who, ()):
            found.add((who, d))
            if d not in seen:
                seen.add(d)
                queue.append(d)
    return found
