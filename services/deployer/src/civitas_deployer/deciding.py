"""Closing proposals whose voting has ended and recording their decisions (`civitas change decide`, and the clock).

Which proposals are due is read from the folded change stream (under the caller's lock); the records are made
outside it, since a decision is compiled from its cut of the log, not from the folded state, and takes seconds
at a large site.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from civitas_kernel.commands import CommandError, Reply
from civitas_kernel.voter_list import encode_voter_list

from civitas_deployer.decision_record import RULE_FILES, DecisionPlan
from civitas_deployer.domain.choices import ChangeError, when
from civitas_deployer.domain.proposals import Proposal
from civitas_deployer.records import DecisionSummary

if TYPE_CHECKING:
    from civitas_deployer.commands import ChangeCommands


class NotYetError(ChangeError):
    """A decision asked for a time the site's clock has not reached: voting may still be open then."""


def parse_time(text: str) -> int:
    """Unix microseconds of an ISO 8601 time (UTC unless it names its offset)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a time; write it like 2025-03-01T12:00 or 2025-03-01T12:00+01:00"
                           ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1_000_000)


def plan_of(change: ChangeCommands, proposal: Proposal) -> DecisionPlan:
    """What the decision on `proposal`'s current revision is snapped with."""
    current = proposal.current
    rules = {name: change.repo.read(current.base_commit, name) for name in RULE_FILES}
    missing = [name for name, text in rules.items() if text is None]
    if missing:
        raise CommandError(f"the live repository has no {', '.join(missing)} at {current.base_commit[:12]}, the base "
                           f"of proposal {proposal.id}; restore the repository from its mirror")
    voter_list = change.electorates.lists.get(current.voter_list)
    return DecisionPlan(proposal.id, current.number, current.content_hash, current.base_commit,
                        change.window(proposal).closes_at_us, rules, current.voter_list,
                        encode_voter_list(voter_list.entries))


def due(change: ChangeCommands, now_us: int) -> list[DecisionPlan]:
    """The plans of every proposal whose voting closed by `now_us` and that no decision records yet."""
    change.catch_up()
    decided = change.decisions.decided()
    plans = []
    for proposal in sorted(change.state.proposals.values(), key=lambda p: int(p.id)):
        if proposal.withdrawn or (proposal.id, proposal.current.content_hash) in decided:
            continue
        if change.window(proposal).closes_at_us <= now_us:
            plans.append(plan_of(change, proposal))
    return plans


def decide_closed(change: ChangeCommands, now_us: int | None = None,
                  lock: AbstractContextManager | None = None) -> Reply:
    """Record the decision of every proposal whose voting closed by `now_us` (default: now by the site's clock).

    `now_us` may not be later than the site's clock: ballots are taken until the close, so a decision made
    before it would leave out votes still to come. `lock` guards the folded state while the due ones are found.
    """
    if change.decisions is None:
        raise CommandError("this site keeps no decision records; decisions are made where the deployer runs")
    clock = change.clock()
    if now_us is not None and now_us > clock:
        raise NotYetError(f"{when(now_us)} is later than the site's clock ({when(clock)}): voting may still be open "
                          "then, so nothing can be decided for that time yet")
    now = clock if now_us is None else now_us
    finished = change.decisions.finish_pending()
    with lock or nullcontext():
        plans = due(change, now)
    made = finished + [change.decisions.record(plan) for plan in plans]
    return describe_decisions(made, now)


def describe_decisions(made: list[DecisionSummary], now_us: int) -> Reply:
    if not made:
        return Reply(f"no proposal's voting had closed undecided by {when(now_us)}", [])
    lines = []
    for d in made:
        lines.append(f"proposal {d.proposal}, revision {d.revision}: {'APPROVED' if d.approved else 'not approved'} "
                     f"(decision {d.record}, content {d.content_hash[:12]}; archive {d.archive})")
        lines += [f"  {module:<14} yes {t['yes']:>6}  no {t['no']:>6}  abstain {t['abstain']:>6}"
                  f" -> {'approved' if t['approved'] else 'not approved'}" for module, t in d.tally.items()]
    return Reply("\n".join(lines), [d.as_dict() for d in made])
