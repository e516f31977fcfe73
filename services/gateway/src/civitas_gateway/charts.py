"""Pictures of a count, drawn as SVG on the server: the ranking as bars, the cascade as a graph."""

from __future__ import annotations

from collections import defaultdict
from html import escape

from civitas_counter import PollCount

BAR_HEIGHT, LABEL_WIDTH, CHART_WIDTH = 28, 260, 720
MAX_GRAPH_NODES = 150  # beyond this a drawing stops helping; the page says what was left out
NODE_GAP, LAYER_GAP, RADIUS = 120, 90, 9


def ranking_chart(count: PollCount, limit: int = 20) -> str:
    """Horizontal bars of receive counts; tied candidates share a rank and a colour."""
    ranking = count.ranking[:limit]
    if not ranking:
        return '<p class="empty">No votes are held yet.</p>'
    top = max(received for _, _, received in ranking) or 1
    height = BAR_HEIGHT * len(ranking) + 10
    rows = []
    for i, (rank, candidate, received) in enumerate(ranking):
        y = 5 + i * BAR_HEIGHT
        width = (CHART_WIDTH - LABEL_WIDTH - 60) * received / top
        tied = sum(1 for r, _, _ in ranking if r == rank) > 1
        rows.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 18}" text-anchor="end">{rank}. {escape(candidate)}</text>'
            f'<rect class="bar{" tie" if tied else ""}" x="{LABEL_WIDTH}" y="{y + 4}" width="{width:.1f}" height="{BAR_HEIGHT - 8}"/>'
            f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{y + 18}">{received}{" (tie)" if tied else ""}</text>'
        )
    return (f'<svg class="chart" role="img" aria-label="ranking by votes received" viewBox="0 0 {CHART_WIDTH} {height}" '
            f'width="{CHART_WIDTH}" height="{height}">{"".join(rows)}</svg>')


def _layers(count: PollCount, shown: set[str]) -> dict[str, int]:
    """Hops from each node to where its vote comes to rest: holders and non-voters on top, their voters below."""
    return {node: max(len(count.trace(node)) - 1, 0) for node in shown}


def _choose_nodes(count: PollCount, highlight: list[str]) -> set[str]:
    """The voter's own path first, then the trees of the leading holders, up to the drawing's limit."""
    shown = set(highlight)
    voters_of: dict[str, list[str]] = defaultdict(list)
    for node in count.nodes:
        if node.candidate:
            voters_of[node.candidate].append(node.node)
    for _, holder, _ in count.ranking:
        queue = [holder]
        while queue and len(shown) < MAX_GRAPH_NODES:
            node = queue.pop(0)
            shown.add(node)
            queue.extend(v for v in sorted(voters_of.get(node, [])) if v not in shown)
        if len(shown) >= MAX_GRAPH_NODES:
            break
    return shown


def cascade_graph(count: PollCount, me: str | None = None) -> str:
    """Who votes for whom, drawn top-down towards the holders; the signed-in voter's path is highlighted."""
    if not count.nodes:
        return '<p class="empty">No votes yet.</p>'
    path = count.trace(me) if me else []
    shown = _choose_nodes(count, path)
    layer = _layers(count, shown)
    rows: dict[int, list[str]] = defaultdict(list)
    for node in sorted(shown, key=lambda n: (layer.get(n, 0), n)):
        rows[layer.get(node, 0)].append(node)
    if not rows:  # votes, but none cast (every voter barred) and the viewer not in the count
        return '<p class="empty">No vote is cast in this count.</p>'
    widest = max(len(r) for r in rows.values())
    width, height = max(widest * NODE_GAP + 40, 300), len(rows) * LAYER_GAP + 40
    at = {node: (20 + NODE_GAP / 2 + i * NODE_GAP + (widest - len(row)) * NODE_GAP / 2, 30 + depth * LAYER_GAP)
          for depth, row in rows.items() for i, node in enumerate(row)}
    on_path = set(zip(path, path[1:]))
    parts = ['<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
             'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/></marker></defs>']
    for node in shown:
        record = count.node(node)
        if record and record.candidate in at and record.candidate != node:
            (x1, y1), (x2, y2) = at[node], at[record.candidate]
            cls = "edge mine" if (node, record.candidate) in on_path else "edge"
            parts.append(f'<line class="{cls}" x1="{x1:.0f}" y1="{y1 - RADIUS:.0f}" x2="{x2:.0f}" y2="{y2 + RADIUS:.0f}" '
                         'marker-end="url(#arrow)"/>')
    for node, (x, y) in at.items():
        record = count.node(node)
        classes = ["node"] + (["mine"] if node in path else []) + (["holder"] if record and record.hold else []) + \
            (["barred"] if record and record.bar else [])
        label = escape(node.split("@")[0] if "@" in node else node[-18:])
        title = escape(f"{node}: receives {record.receive}, holds {record.hold}" if record else node)
        parts.append(f'<g class="{" ".join(classes)}"><title>{title}</title><circle cx="{x:.0f}" cy="{y:.0f}" r="{RADIUS}"/>'
                     f'<text x="{x:.0f}" y="{y - RADIUS - 6:.0f}" text-anchor="middle">{label}</text></g>')  # above: arrows arrive from below
    note = "" if len(shown) == len(count.nodes) else \
        f'<p class="note">Showing {len(shown)} of {len(count.nodes)} voters and candidates: your path and the leading trees.</p>'
    return (f'<svg class="graph" role="img" aria-label="the cascade of votes" viewBox="0 0 {width:.0f} {height}" '
            f'width="{width:.0f}" height="{height}">{"".join(parts)}</svg>{note}')
