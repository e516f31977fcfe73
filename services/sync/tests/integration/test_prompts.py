"""Prompts are signed: only a site this one pulls from, with its pinned key, addressed here, fresh, and not more
than once a second; anything else is refused with a problem saying why, and the worker is not woken."""

from __future__ import annotations

import time

import httpx

from civitas_kernel.signing import SiteKey

from civitas_sync.config import attach_peer
from civitas_sync.prompts import signed_prompt
from civitas_sync.settings import SyncOptions


def post(site, body):
    return httpx.post(f"{site.url}/sync/v1/prompt", json=body, timeout=5)


def test_a_prompt_is_taken_only_signed_by_a_peer_this_site_pulls_from(make_site):
    county = make_site("county.example", worker=SyncOptions(SYNC_EVERY_S=60))
    town, peripheral = make_site("town.example"), make_site("p.example")
    attach_peer(county.home, county.name, town.as_peer("sub"))
    attach_peer(county.home, county.name, peripheral.as_peer("peripheral"))
    now = time.time()

    unsigned = httpx.post(f"{county.url}/sync/v1/prompt", timeout=5)
    assert unsigned.status_code == 422
    stranger = post(county, signed_prompt(SiteKey.generate(), "elsewhere.example", county.name, now))
    assert stranger.status_code == 403 and "not a site this site pulls from" in stranger.json()["detail"]
    puller = post(county, signed_prompt(peripheral.key, peripheral.name, county.name, now))
    assert puller.status_code == 403  # a peripheral site pulls from the county: it has nothing to prompt about
    forged = post(county, signed_prompt(SiteKey.generate(), town.name, county.name, now))
    assert forged.status_code == 403 and "not signed with the key pinned for town.example" in forged.json()["detail"]
    elsewhere = post(county, signed_prompt(town.key, town.name, "other.example", now))
    assert elsewhere.status_code == 403  # addressed to another site: not replayable here
    stale = post(county, signed_prompt(town.key, town.name, county.name, now - 3600))
    assert stale.status_code == 403 and "check both clocks" in stale.json()["detail"]

    assert post(county, signed_prompt(town.key, town.name, county.name, now)).json() == {"status": "prompted"}
    again = post(county, signed_prompt(town.key, town.name, county.name, now))
    assert again.status_code == 429 and int(again.headers["Retry-After"]) >= 1
