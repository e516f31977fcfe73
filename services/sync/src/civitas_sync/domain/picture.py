"""The network drawn as SVG: this site in the middle, its super-site above, its sub-sites below (the core tree),
the sources it pulls the public input from on the left and the peripheral sites pulling from it on the right; each
edge points the way events flow and carries its lag."""

from __future__ import annotations

from html import escape

W, H, BOX_W, BOX_H = 760, 420, 170, 40
COLOURS = {"ok": "#2e7d32", "behind": "#ef6c00", "down": "#c62828", "gap": "#6a1b9a"}


def _box(x: float, y: float, label: str, sub: str, strong: bool = False) -> str:
    weight = ' font-weight="bold"' if strong else ""
    return (f'<g><rect x="{x - BOX_W / 2:.0f}" y="{y - BOX_H / 2:.0f}" width="{BOX_W}" height="{BOX_H}" rx="6" '
            f'fill="{"#e3f2fd" if strong else "#fafafa"}" stroke="#555"/>'
            f'<text x="{x:.0f}" y="{y - 3:.0f}" text-anchor="middle" font-size="13"'
            f'{weight}>{escape(label)}</text>'
            f'<text x="{x:.0f}" y="{y + 13:.0f}" text-anchor="middle" font-size="10" fill="#555">{escape(sub)}'
            '</text></g>')


def _places(peers: list[dict]) -> dict[str, tuple[float, float]]:
    """Where each peer is drawn, by role."""
    sides = {"super": [], "sub": [], "source": [], "peripheral": []}
    for p in peers:
        sides[p["role"]].append(p["site"])
    places = {}
    for role, names in sides.items():
        for i, name in enumerate(names):
            if role in ("super", "sub"):
                x, y = W * (i + 1) / (len(names) + 1), 50 if role == "super" else H - 50
            else:
                x, y = 100 if role == "source" else W - 100, H * (i + 1) / (len(names) + 1)
            places[name] = (x, y)
    return places


def state_of(peer: dict) -> str:
    if peer["failures"] or any(s["frozen"] or s["error"] for s in peer["streams"]):
        return "down"
    if any(s.get("gap") for s in peer["streams"]):
        return "gap"  # the peer pruned what this site needs next: it can come only from another site
    return "behind" if peer["lag"] else "ok"


def network_svg(overview: dict) -> str:
    """The SVG of a network_overview: boxes for the sites, arrows from sender to receiver labelled with the lag."""
    centre, parts = (W / 2, H / 2), []
    places = _places(overview["peers"])
    for p in overview["peers"]:
        (x, y), state = places[p["site"]], state_of(p)
        colour = COLOURS[state]
        (x1, y1), (x2, y2) = ((x, y), centre) if p["pulled"] else (centre, (x, y))  # events flow sender -> receiver
        label = ("unreachable" if p["failures"] else "frozen" if any(s["frozen"] for s in p["streams"])
                 else "gap" if state == "gap" else f"lag {p['lag']}")
        parts.append(f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{(x1 + x2) / 2:.0f}" y2="{(y1 + y2) / 2:.0f}" '
                     f'stroke="{colour}" stroke-width="2" marker-end="url(#flow)"/>'
                     f'<line x1="{(x1 + x2) / 2:.0f}" y1="{(y1 + y2) / 2:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" '
                     f'stroke="{colour}" stroke-width="2"/>'
                     f'<text x="{(x1 + x2) / 2 + 6:.0f}" y="{(y1 + y2) / 2 - 6:.0f}" font-size="11" fill="{colour}" '
                     f'class="lag {state}" data-peer="{escape(p["site"])}">{escape(label)}</text>')
    for p in overview["peers"]:
        parts.append(_box(*places[p["site"]], p["site"], p["role"]))
    parts.append(_box(*centre, overview["site"], "this site", strong=True))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" '
            f'aria-label="the site network of {escape(overview["site"])}"><defs><marker id="flow" markerWidth="10" '
            'markerHeight="8" refX="9" refY="4" orient="auto"><path d="M0,0 L10,4 L0,8 z" fill="#555"/></marker></defs>'
            + "".join(parts) + "</svg>")
