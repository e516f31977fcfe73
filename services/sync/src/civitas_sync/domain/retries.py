"""When to try a peer again after failures: capped exponential backoff."""

from __future__ import annotations


def retry_delay(failures: int, base_s: float, cap_s: float) -> float:
    """Seconds to wait after `failures` failures in a row (none: no wait): base, 2×base, 4×base, … up to cap."""
    if failures <= 0:
        return 0.0
    return min(cap_s, base_s * 2 ** min(failures - 1, 62))
