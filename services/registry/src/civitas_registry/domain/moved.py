"""A voter who moved to another site stays on this site's list, barred, so they count there and not here."""

from __future__ import annotations

from bisect import bisect_left


def moved_bars(voters: list[str], moved: dict[str, str], bars: list[str]) -> None:
    """Bar each moved registrant (voters sorted, as list ids are) with the site they moved to."""
    for voter, to_site in moved.items():
        i = bisect_left(voters, voter)
        if i < len(voters) and voters[i] == voter:
            bars[i] = f"moved to {to_site}"
