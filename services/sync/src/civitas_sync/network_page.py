"""The network page: this site's peers drawn as a graph (the core tree and the peripheral links, each edge with its
lag), the warnings an operator must see, and per peer and (site, stream) where each side stands."""

from __future__ import annotations

from html import escape

from civitas_sync.domain.picture import network_svg, state_of

STYLE = ("body{font-family:sans-serif;margin:1.5em;max-width:60em}table{border-collapse:collapse;margin:.5em 0 1.5em}"
         "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}.warning{background:#fff3e0;border-left:4px "
         "solid #ef6c00;padding:.4em .8em;margin:.3em 0}.down{color:#c62828}.behind{color:#ef6c00}.ok{color:#2e7d32}")


def _cell(value) -> str:
    return f"<td>{escape('-' if value is None else str(value))}</td>"


def network_html(overview: dict) -> str:
    site = escape(overview["site"])
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Site network of {site}</title>"
             f"<style>{STYLE}</style></head><body><h1>The site network of {site}</h1>"]
    if overview["warnings"]:
        parts.append('<section id="warnings" aria-label="warnings">' + "".join(
            f'<p class="warning" role="alert">{escape(w)}</p>' for w in overview["warnings"]) + "</section>")
    if not overview["peers"]:
        parts.append("<p>No peers: attach one with <code>civitas sync attach SITE --role ROLE --url URL --key KEY"
                     "</code>.</p></body></html>")
        return "".join(parts)
    parts.append(f'<figure>{network_svg(overview)}<figcaption>Arrows point the way events flow; the super-site '
                 "above, sub-sites below, sources left, peripheral sites right.</figcaption></figure>")
    for p in overview["peers"]:
        state = state_of(p)
        direction = "pulled from" if p["pulled"] else "pulls from this site"
        parts.append(f'<h2 id="peer-{escape(p["site"])}">{escape(p["site"])} <small>({escape(p["role"])}, '
                     f'{direction})</small> <span class="{state}">{state}</span></h2>'
                     "<table><tr><th>url</th><th>last contact</th><th>failures</th><th>next try</th><th>error</th>"
                     "</tr><tr>" + "".join(_cell(p[k]) for k in ("url", "last_contact", "failures", "next_attempt",
                                                                   "error")) + "</tr></table>")
        if p["streams"]:
            parts.append("<table class=streams><tr><th>site/stream</th><th>held here</th><th>peer's head</th>"
                         "<th>lag</th><th>frozen</th><th>error</th></tr>" + "".join(
                             "<tr>" + "".join(_cell(s[k]) for k in ("stream", "here", "there", "lag")) +
                             _cell("frozen" if s["frozen"] else "") + _cell(s["error"]) + "</tr>"
                             for s in p["streams"]) + "</table>")
    if overview["evidence"]:
        parts.append("<h2>Split views kept as evidence</h2><table><tr><th>site/stream</th><th>position</th>"
                     "<th>seen at</th><th>hash held here</th></tr>" + "".join(
                         "<tr>" + _cell(f"{e['origin']}/{e['stream']}") + _cell(e["seq"]) + _cell(e["seen_at"]) +
                         _cell(e["held_hash"]) + "</tr>" for e in overview["evidence"]) + "</table>")
    parts.append("</body></html>")
    return "".join(parts)
