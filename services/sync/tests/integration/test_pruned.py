"""A source that pruned what a late receiver needs: a gap of its own (not an error), said on the overview, in the
voters' notices and with what to do; nothing past it is taken, and a peer that holds the rest fills it."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from civitas_sync.config import attach_peer
from civitas_sync.settings import SyncOptions
from civitas_sync.worker import SyncWorker

from .test_pull import fill, held, pull

FIRST = 201  # the pruned site holds the town's trust only from here (pages of 100: page 3 on)


def pruned_site(origin_url: str, how: str) -> FastAPI:
    """The town's streams as a site that pruned its trust before FIRST serves them: saying so in its heads
    ("first"), answering 410 for what it no longer holds ("gone"), or serving what it holds as if asked ("naive")."""
    site = FastAPI()

    @site.get("/sync/v1/{rest:path}")
    def pruned(rest: str, request: Request):
        if rest == "heads":
            body = httpx.get(f"{origin_url}/sync/v1/heads").json()
            for entry in body["streams"]:
                if entry["stream"] == "trust" and how == "first":
                    entry["first"] = FIRST
            return JSONResponse(body)
        asked = int(request.query_params.get("after", 0)) + 1 if "after" in request.query_params else None
        if rest.startswith("pages/town.example/trust/"):
            page = int(rest.rsplit("/", 1)[1])
            start = asked or (page - 1) * 100 + 1
            if start < FIRST:
                if how == "naive":  # what it holds, from FIRST on
                    answer = httpx.get(f"{origin_url}/sync/v1/pages/town.example/trust/3", params={"after": FIRST - 1})
                    return Response(answer.content, media_type=answer.headers.get("content-type"))
                return JSONResponse({"detail": "pruned", "type": "pruned", "first": FIRST}, status_code=410)
        answer = httpx.get(f"{origin_url}/sync/v1/{rest}", params=dict(request.query_params))
        return Response(answer.content, status_code=answer.status_code, media_type=answer.headers.get("content-type"))

    return site


@pytest.mark.parametrize("how", ["first", "gone", "naive"])
def test_a_pruned_source_is_a_gap_never_jumped(make_site, server_thread, how):
    town, county = make_site("town.example"), make_site("county.example")
    fill(town)
    with server_thread().serving(pruned_site(town.url, how)) as url:
        report = pull(county, town.as_peer("sub", url))
    trust = next(s for s in report.streams if s.stream == "trust")
    assert (trust.gap, trust.error, trust.added) == (FIRST, None, 0)
    assert held(county, "town.example") == {"registration": 30}  # the rest came; nothing of the trust past the gap
    assert report.errors == []


def test_the_gap_is_its_own_state_with_a_hint_and_a_peer_holding_the_rest_fills_it(make_site, server_thread):
    town, county, other = make_site("town.example"), make_site("county.example"), make_site("district.example")
    fill(town)
    attach_peer(other.home, other.name, town.as_peer("sub"))
    SyncWorker(other.log, other.home, SyncOptions()).run_once(force=True)  # the district holds the town's trust
    with server_thread().serving(pruned_site(town.url, "first")) as url:
        attach_peer(county.home, county.name, town.as_peer("sub", url))
        SyncWorker(county.log, county.home, SyncOptions()).run_once(force=True)
        overview = httpx.get(f"{county.url}/sync/v1/network").json()
        [peer] = overview["peers"]
        trust = next(s for s in peer["streams"] if s["stream"] == "town.example/trust")
        assert (peer["state"], trust["gap"], trust["error"], trust["here"]) == ("gap", FIRST, None, 0)
        warning = overview["warnings"][0]  # then that the town is behind, by the 250 it cannot send
        assert warning.startswith("gap: town.example holds town.example/trust only from position 201 (it pruned what "
                                  "came before), and this site holds it up to 0, so positions 1..200 must come from "
                                  "elsewhere; nothing past the gap is taken")
        assert "civitas sync attach" in warning
        assert overview["counting"] == ["town.example no longer holds some earlier events this site still lacks "
                                        "(town.example/trust): lists and counts here may be missing voters until "
                                        "another site sends them."]
        assert 'class="lag gap" data-peer="town.example">gap<' in httpx.get(f"{county.url}/sync/v1/network.svg").text

        attach_peer(county.home, county.name, other.as_peer("sub"))  # a site that received it from the start
        SyncWorker(county.log, county.home, SyncOptions()).run_once(force=True)
        assert held(county, "town.example")["trust"] == 250
        overview = httpx.get(f"{county.url}/sync/v1/network").json()
        assert {p["site"]: p["state"] for p in overview["peers"]} == {"town.example": "ok", "district.example": "ok"}
        assert overview["counting"] == [] and not any("gap" in w for w in overview["warnings"])
