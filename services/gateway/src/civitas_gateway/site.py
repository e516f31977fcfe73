"""What the gateway's routes use of a site: the embedded one (civitas.site.Site, every service in one process) or
RemoteSite (facade.py, each method a call to the service that owns it)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol

from civitas_kernel.commands import Reply
from civitas_kernel.count_result import CountResult
from civitas_kernel.records import Record
from civitas_kernel.voter_command import VoterCommand
from civitas_kernel.voter_list import VoterList


class Site(Protocol):
    settings: Any  # .SITE: the site's name
    lock: AbstractContextManager  # reads that fold state take it
    registry: Any  # catch_up, attributes, trusted_by, doubts_by, trusters_of, doubters_of, primary_edges, registrants,
    # registrar_trust, registrar_untrust
    polls: Any  # catch_up, list_polls, has_poll, poll, votes, create, configure, run, state.vote_of
    records: Any  # status(kind), archive_chunks(kind, id)
    log: Any  # streams(), read(stream, after=)
    draft_reads: Any  # groups, group, members, posts, post, tables, query (civitas_drafts.DraftReads; drafts_remote.py)

    async def submit(self, command: VoterCommand) -> Reply: ...

    def public_key(self) -> bytes: ...

    def reported_list(self) -> VoterList | None: ...

    def reported_count(self) -> CountResult | None: ...

    def compile(self, kind: str) -> list[Record]: ...
