"""A voter's public page (/voters/ADDRESS): their registration, who trusts and doubts them, their trust level
explained, and in each poll who votes for them and whose votes reach them; the registration page shows the same."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from civitas_kernel.addresses import normalise_address

from civitas_gateway.standing import standing_of

router = APIRouter(include_in_schema=False)


def standing_context(request: Request, voter: str, *, who: str) -> dict:
    """What _standing.html needs: the standing (the caller holds site.lock) and the voter's latest notices."""
    site = request.app.state.site
    board = getattr(request.app.state, "notices", None)
    if board is not None:
        board.catch_up()  # so a vote just cast shows at once, not at the loop's next look
    return {"s": standing_of(site, voter, who=who), "notices": board.for_candidate(voter) if board else []}


@router.get("/voters/{address}", response_class=HTMLResponse)
def voter_page(request: Request, address: str):
    from civitas_gateway.page_kit import render
    from civitas_gateway.pages import ATTRIBUTES

    voter = normalise_address(address)  # a mistake is a CommandError: a 400 page saying how to write one
    site = request.app.state.site
    with site.lock:
        return render(request, "voter.html", attributes_order=ATTRIBUTES, **standing_context(request, voter, who=voter))
