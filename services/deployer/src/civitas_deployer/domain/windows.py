"""When a revision may be reviewed, voted on, and when its voting closes."""

from __future__ import annotations

from dataclasses import dataclass

from civitas_deployer.domain.rules import Governance

HOUR_US = 3_600 * 1_000_000
REVIEW, VOTING, CLOSED = "review", "voting", "closed"


@dataclass(frozen=True)
class Window:
    opens_at_us: int  # the text is frozen from here; ballots are taken until closes_at_us
    closes_at_us: int

    def phase(self, now_us: int) -> str:
        if now_us < self.opens_at_us:
            return REVIEW
        return VOTING if now_us < self.closes_at_us else CLOSED


def window(made_at_us: int, rules: Governance, constitutional: bool, only_stops: bool = False) -> Window:
    """The window of a revision made at made_at_us: review_hours of review, then the voting hours that apply.

    A revision that only asks to stop something (pause deployments, roll back) has the maintenance window; one that
    also touches a constitutional path never does.
    """
    if only_stops and not constitutional:
        opens = made_at_us + rules.stop_review_hours * HOUR_US
        return Window(opens, opens + rules.stop_voting_hours * HOUR_US)
    opens = made_at_us + rules.review_hours * HOUR_US
    return Window(opens, opens + rules.thresholds(constitutional).voting_hours * HOUR_US)
