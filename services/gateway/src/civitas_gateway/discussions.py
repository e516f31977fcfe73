"""A subject's discussion group, found so that nobody can take it over.

A group names its subject (`change:12`) in its first version, and anyone may name any subject: a name or a subject
alone would let whoever comes first squat a proposal's discussion. So a subject has an owner, the one voter whose
group counts: for `change:ID`, the proposal's proposer. The discussion of a subject is the first public group made
for it by its owner; a group anyone else makes for it is an ordinary group and the pages ignore it. The site opens it
as the proposer's own act when the proposal is made through the pages or the API (proposed another way, the
proposer opens it from the proposal's discussion link). A public group its owner made before groups had subjects,
named `Discussion of SUBJECT`, still counts.
"""

from __future__ import annotations

import asyncio
import logging
import re

from civitas_kernel.commands import CommandError, NotFoundError, Reply
from civitas_kernel.service.problems import Problem
from civitas_kernel.voter_command import VoterCommand

from civitas_gateway.change_desk import Change, changes_of

logger = logging.getLogger(__name__)
CHANGE_SUBJECT = re.compile(r"change:([0-9]{1,12})")


def change_subject(proposal: str | int) -> str:
    return f"change:{proposal}"


def discussion_name(subject: str) -> str:
    return f"Discussion of {subject}"


def subject_owner(site, subject: str) -> str | None:
    """The voter whose group is a subject's discussion (a change proposal's proposer), or None: no such subject."""
    match = CHANGE_SUBJECT.fullmatch(subject)
    if match is None:
        return None
    try:
        return changes_of(site).show(None, match[1]).data["proposer"]
    except NotFoundError:
        return None


def discussion_of(reads, voter: str | None, subject: str, owner: str) -> dict | None:
    """The subject's discussion group as `voter` sees it: the first public group its owner made for it, else None."""
    for group in reads.subject_groups(voter, subject):
        if group["founder"] == owner and not group["private"]:
            return group
    name = discussion_name(subject)  # a group made before subjects, by its owner
    return next((g for g in reads.groups(voter) if g["name"] == name and not g["private"] and not g.get("subject")
                 and g.get("founder") == owner), None)


def open_command(owner: str, subject: str, key: str | None) -> VoterCommand:
    """The owner's command that makes the discussion: public, anyone joins at weight 1, posts show until voted down."""
    return VoterCommand(owner, "drafts", ("group", "create", discussion_name(subject), "--subject", subject,
                                          "--others-weight", "1", "--default-score", "1", "--weight", "1"), key)


async def open_discussion(site, owner: str, subject: str, key: str | None = None) -> dict | None:
    """Make the subject's discussion as its owner, unless it exists; the group, or None if it could not be made."""
    try:
        found = await asyncio.to_thread(discussion_of, site.draft_reads, owner, subject, owner)
        if found is not None:
            return found
        reply = await site.submit(open_command(owner, subject, key))
    except (CommandError, Problem) as error:  # refused, or the drafts service down or not deployed
        logger.warning("the discussion of %s could not be opened: %s", subject, error)
        return None
    return reply.data if isinstance(reply.data, dict) else None


async def propose_with_discussion(site, voter: str, title: str, change: Change, key: str | None) -> Reply:
    """Propose a change, then open its discussion as the proposer (a failure there leaves the proposal made)."""
    reply = await changes_of(site).propose(voter, title, change, key)
    proposal = (reply.data or {}).get("proposal") if isinstance(reply.data, dict) else None
    if proposal is not None:
        await open_discussion(site, voter, change_subject(proposal), key and f"{key}:discussion")
    return reply
