"""What the live repository's first commit ships for the pages is what the gateway serves with no release: one
stylesheet and one front text, kept in two packages (the deployer's defaults, the gateway's fallback)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "services/deployer/src/civitas_deployer/default"
GATEWAY = ROOT / "services/gateway/src/civitas_gateway"


def test_the_shipped_stylesheet_and_front_text_are_the_gateway_s_own():
    assert (DEFAULT / "site/static/site.css").read_bytes() == (GATEWAY / "static/site.css").read_bytes()
    assert (DEFAULT / "site/front.md").read_bytes() == (GATEWAY / "front.md").read_bytes()
