"""Who may vote on a proposal: the voter list recorded with it, trust at least min_trust, and recent activity."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from civitas_deployer.domain.rules import Governance

DAY_US = 86_400 * 1_000_000


def electorate(
    standings: Iterable[tuple[str, int, str]],
    rules: Governance,
    *,
    last_active_us: Mapping[str, int] | None = None,
    closes_at_us: int = 0,
) -> frozenset[str]:
    """The voters of `standings` (voter, trust level, bar) who may vote under `rules`.

    When rules.inactive_after_days > 0, a voter also needs an event of their own (last_active_us) within
    that many days before the close; without activity figures that condition is not applied.
    """
    eligible = (voter for voter, level, bar in standings if not bar and level >= rules.min_trust)
    if rules.inactive_after_days <= 0 or last_active_us is None:
        return frozenset(eligible)
    since = closes_at_us - rules.inactive_after_days * DAY_US
    return frozenset(voter for voter in eligible if last_active_us.get(voter, -1) >= since)
