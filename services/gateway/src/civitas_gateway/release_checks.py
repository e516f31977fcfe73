"""What must hold in a live release besides its templates, before its pages are served: each check a sentence per
problem (empty: fine). Filled by the polls' files, the site's rules and the registrars as they are read."""

from __future__ import annotations

from civitas_gateway.release_pages import Check


def release_checks() -> tuple[Check, ...]:
    return ()
