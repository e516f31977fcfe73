"""Forking in this process from a parent serving its sync pages over real HTTP: what the fork claims, checked."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from civitas.forking import ForkError, fork_site
from civitas.settings import Settings
from civitas.site import Site, dispatch
from civitas_kernel.events import NewEvent
from civitas_kernel.service.problems import install_problem_handlers
from civitas_kernel.voter_command import VoterCommand
from civitas_schema.v1 import lineage_pb2
from civitas_sync import sync_router

ANN, BOB = "ann@town.example", "bob@town.example"


def settings(tmp_path, name):
    return Settings(HOME=tmp_path / name, SITE=name, COMPILE_EVERY_MINUTES=0)


@pytest.fixture
def town(tmp_path, server_thread):
    site = Site(settings(tmp_path, "town.example"))
    for line in ([ANN, "set", "name", "Ann"], [ANN, "trust", BOB], [BOB, "set", "name", "Bob"], [BOB, "trust", ANN]):
        dispatch(site, VoterCommand(line[0], "register", tuple(line[1:])), local=True)
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(sync_router(lambda: site.log, site.settings.HOME))
    with server_thread().serving(app) as url:
        site.url = url
        yield site


def test_a_forks_claims_hold_and_a_confirmation_naming_what_the_cut_lacks_is_caught(town, tmp_path):
    info = fork_site(settings(tmp_path, "fork.example"), "town.example", town.url, town.key.public_key)
    assert {c["stream"]: c["seq"] for c in info["cut"]} == {"registration": 2, "trust": 2}
    fork = Site(settings(tmp_path, "fork.example"))
    first = next(iter(fork.log.read("registration")))
    assert first.seq == 1 and first.type == "civitas.v1.SiteForked"
    dispatch(fork, VoterCommand(ANN, "register", ("confirm",)), local=True)
    assert fork.registry.attributes(ANN) == {"name": "Ann"} and fork.registry.trusted_by(ANN) == []  # Bob: not yet
    dispatch(fork, VoterCommand(BOB, "register", ("confirm",)), local=True)
    assert fork.registry.trusted_by(ANN) == [BOB] and fork.registry.trusted_by(BOB) == [ANN]
    assert fork.registry.lineage.check() == []
    fork.log.append("registration", [NewEvent.of(lineage_pb2.InheritanceConfirmed(
        voter="eve@town.example", parent="town.example", events=[bytes(32)]), "eve@town.example")])
    assert "names events not in town.example's cut" in fork.registry.lineage.check()[0]


def test_a_fork_is_refused_into_a_site_that_holds_anything_or_under_its_parents_name(town, tmp_path):
    with pytest.raises(ForkError, match="other than town.example"):
        fork_site(settings(tmp_path, "town.example"), "town.example", town.url, town.key.public_key)
    with pytest.raises(ForkError, match="holds a site already"):
        fork_site(town.settings.model_copy(update={"SITE": "fork.example"}), "town.example", town.url,
                  town.key.public_key)
    with pytest.raises(ForkError, match="does not answer"):
        fork_site(settings(tmp_path, "f2.example"), "town.example", "http://127.0.0.1:9", town.key.public_key)
    assert not (tmp_path / "f2.example" / "log.sqlite").exists()
