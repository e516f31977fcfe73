"""What the commands import only when they run: `civitas --help` must not wire the site or import its services."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from civitas.site import Site


def bootstrap() -> Site:
    """The embedded site, wired from the environment (civitas.site.bootstrap, imported on first call)."""
    from civitas.site import bootstrap as wire

    return wire()
