"""Forks and moves between sites running as separate `civitas up` processes (the site network's harness)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import httpx
import pytest

from .conftest import CIVITAS

TOWN, FORK, A, B, C = "town.example", "fork.example", "a.example", "b.example", "c.example"
ANN, BOB, CAT, NEW = "ann@town.example", "bob@town.example", "cat@town.example", "new@fork.example"


def voters(site, *lines: str, check: bool = True) -> str:
    done = site.civitas("voter", stdin="\n".join(lines) + "\n", check=check)
    return done.stdout + done.stderr


def voter_list(site) -> dict[str, dict]:
    site.civitas("list")
    return {e["voter"]: e for e in json.loads(site.civitas("list", "show", "--json").stdout)}


def town_with_voters(sites):
    town = sites(TOWN)
    for voter in (ANN, BOB, CAT):
        town.civitas("registrar", "trust", voter)
    voters(town, f"{ANN} register set residence 1 High St, Town T1000", f"{BOB} register set name Bob",
           f"{CAT} register set name Cat", f"{ANN} register trust {BOB}", f"{BOB} register trust {ANN}",
           f"{CAT} register trust {ANN}")
    town.civitas("poll", "create", "town-poll")
    voters(town, f"{ANN} town-poll vote {BOB}")
    town.up()
    return town


@pytest.mark.slow
def test_a_fork_holds_the_parents_cut_as_the_parents_diverges_and_its_first_list_audits_alone(sites, tmp_path):
    town = town_with_voters(sites)
    fork = sites(FORK)
    done = fork.civitas("fork", TOWN, town.url, "--parent-key", town.key, "--live-repo", str(town.home / "live.git"),
                        "--json")
    lineage = json.loads(done.stdout)
    held = town.heads()
    assert lineage["parent"] == TOWN and lineage["parent_key"] == town.key
    assert {c["stream"]: c["seq"] for c in lineage["cut"]} == {
        s: n for (site, s), n in held.items() if site == TOWN and s != "doubt"}  # doubt never leaves the town
    live = subprocess.run(["git", "--git-dir", str(town.home / "live.git"), "rev-parse", "main"],
                          capture_output=True, text=True).stdout.strip()
    assert lineage["live_commit"] == live

    voters(town, f"{BOB} register trust {CAT}")  # the town goes on; the fork does not follow
    voters(fork, f"{ANN} register confirm", f"{NEW} register set name New", f"{NEW} register trust {ANN}")
    fork.up()
    assert fork.heads()[(TOWN, "trust")] == held[(TOWN, "trust")]
    page = httpx.get(fork.url + "/site/lineage", timeout=5).text
    assert TOWN in page and town.key in page

    listed = voter_list(fork)
    assert set(listed) == {ANN, NEW}  # Bob and Cat have not chosen the fork: not enrolled
    assert listed[ANN]["residence"] == "1 High St, Town T1000"
    voters(fork, f"{BOB} register confirm")
    listed = voter_list(fork)
    assert set(listed) == {ANN, BOB, NEW} and listed[BOB]["name"] == "Bob"
    trust = [e for e in (fork.home / "records" / "list").iterdir() if e.name.isdigit()]
    first = sorted(trust)[0] / "archive.tar"

    auditor = tmp_path / "auditor"
    auditor.mkdir()
    shutil.copy(first, auditor / "archive.tar")
    env = {k: v for k, v in fork.env.items()} | {"CIVITAS_HOME": str(auditor)}
    audit = subprocess.run([CIVITAS, "audit", str(auditor / "archive.tar"), "--key", fork.key], env=env,
                           capture_output=True, text=True, timeout=120)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    fork.civitas("log", "verify")  # the town's events held here verify with the town's key
    checked = json.loads(fork.civitas("lineage", "--json").stdout)  # the cut and every confirmation's events
    assert checked["problems"] == [] and checked["confirmed"] == 2
    again = fork.civitas("voter", stdin=f"{ANN} register confirm\n", check=False)
    assert again.returncode == 1 and "confirmed already" in again.stderr


@pytest.mark.slow
def test_a_fork_from_heads_not_signed_by_the_parents_key_or_a_log_that_does_not_verify_writes_nothing(
        sites, server_thread):
    from .test_resume_and_relay import Relay

    town = town_with_voters(sites)
    fork = sites(FORK)
    wrong = sites("other.example").key
    done = fork.civitas("fork", TOWN, town.url, "--parent-key", wrong, check=False)
    assert done.returncode == 1 and "does not verify with the key given" in done.stderr
    assert not (fork.home / "log.sqlite").exists() and not (fork.home / "site-key.pem").exists()
    relay = Relay(town.url, alter=(1, b"Bob", b"Rob"))
    with server_thread().serving(relay.app) as url:
        done = fork.civitas("fork", TOWN, url, "--parent-key", town.key, check=False)
    assert done.returncode == 1 and "tampered" in done.stderr and "nothing was written" in done.stderr
    assert not (fork.home / "log.sqlite").exists()


def three_sites(sites):
    a, b, c = sites(A), sites(B), sites(C)
    a.attach(b, "source")
    b.attach(a, "peripheral")
    b.attach(c, "source")
    c.attach(b, "peripheral")
    for site in (a, b, c):
        site.up()
    return a, b, c


@pytest.mark.slow
def test_a_voter_moves_a_to_b_the_lists_follow_and_a_second_move_waits_for_the_cooling_off(sites):
    a, b, c = three_sites(sites)
    mover, friend = "mover@example.org", "friend@example.org"
    a.civitas("registrar", "trust", mover)
    voters(a, f"{mover} register set residence 2 Low St, Town T1000", f"{mover} register trust {friend}",
           f"{friend} register trust {mover}")
    voters(b, f"{friend} register set name Friend")
    assert voter_list(a)[mover]["bar"] == ""

    refused = voters(a, f"{mover} register move {B}", check=False)
    assert "accept-move" in refused  # B was not asked: nothing written at A
    assert "has never moved" in voters(a, f"{mover} register moves")
    voters(b, f"{mover} register accept-move {A}")
    moved = voters(a, f"{mover} register move {B}")
    assert f"you moved from {A} to {B}" in moved, moved

    assert voter_list(a)[mover]["bar"] == f"moved to {B}"  # A keeps them, barred: counted at B
    at_b = voter_list(b)[mover]
    assert at_b["bar"] == "" and at_b["residence"] == "2 Low St, Town T1000"
    page = httpx.get(f"{a.url}/voters/{mover}/moves", timeout=5).text
    assert B in page and "now votes on" in page
    evidence = httpx.get(f"{b.url}/voters/{mover}/moves", timeout=5).text
    assert "1 trust edges given at a.example" in evidence

    voters(c, f"{mover} register accept-move {B}")
    soon = voters(b, f"{mover} register move {C}", check=False)
    assert "cooling-off" in soon  # moved less than 7 days ago
    assert mover not in voter_list(c)  # nothing written at C
    voters(c, f"{friend} register accept-move {B}")
    c.process.kill()
    c.process.communicate()
    head = b.open_log().head("registration").seq
    gone = voters(b, f"{friend} register move {C}", check=False)
    assert "does not answer" in gone and "nothing was written" in gone
    assert b.open_log().head("registration").seq == head
    unknown = voters(a, f"{friend} register move {C}", check=False)
    assert "does not know site" in unknown


@pytest.mark.slow
def test_a_voter_moves_back_after_the_cooling_off_and_the_lists_follow_again(sites):
    cooling_off_s = 20  # the sites' cooling-off: short enough to wait for, long enough for a loaded machine
    a, b = sites(A), sites(B)
    for site in (a, b):
        site.settings["CIVITAS_MOVE_COOLING_OFF_DAYS"] = repr(cooling_off_s / 86_400)
    a.attach(b, "source")
    b.attach(a, "peripheral")
    a.up()
    b.up()
    mover = "mover@example.org"
    a.civitas("registrar", "trust", mover)
    voters(a, f"{mover} register set residence 2 Low St, Town T1000")
    voters(b, f"{mover} register accept-move {A}")
    assert f"you moved from {A} to {B}" in voters(a, f"{mover} register move {B}")
    moved_at = time.monotonic()
    voters(a, f"{mover} register accept-move {B}")

    soon = voters(b, f"{mover} register move {A}", check=False)
    assert time.monotonic() - moved_at < cooling_off_s, "the machine took the whole cooling-off to get here"
    assert "cooling-off" in soon, soon
    assert voter_list(a)[mover]["bar"] == f"moved to {B}"  # the refusal wrote nothing at A

    time.sleep(max(0.0, moved_at + cooling_off_s + 1 - time.monotonic()))
    back = voters(b, f"{mover} register move {A}")
    assert f"you moved from {B} to {A}" in back, back
    assert voter_list(a)[mover]["bar"] == ""  # counted at A again, with the residence A held
    assert voter_list(a)[mover]["residence"] == "2 Low St, Town T1000"
    assert voter_list(b)[mover]["bar"] == f"moved to {A}"
    page = httpx.get(f"{a.url}/voters/{mover}/moves", timeout=5).text
    assert page.count(B) >= 2  # out to B, then in from B
