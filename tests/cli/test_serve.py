"""`civitas serve NAME` as an operator starts a service, through the real entry point: mistakes are said, not raised."""

from __future__ import annotations

import pytest

from civitas.cli import main
from civitas.exit_status import ExitStatus


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    for name in ("CIVITAS_LOG_URL", "CIVITAS_SERVICE", "CIVITAS_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CIVITAS_HOME", str(tmp_path / "home"))


def test_an_unknown_service_is_named_with_the_ones_there_are(capsys):
    assert main(["serve", "ballots"]) == ExitStatus.USAGE
    said = capsys.readouterr().err
    assert "registry, polls, counter, gateway" in said and "Traceback" not in said


def test_a_stream_owner_refuses_several_workers(capsys):
    assert main(["serve", "polls", "--workers", "2"]) == ExitStatus.ERROR
    said = capsys.readouterr().err
    assert "one writer of its streams" in " ".join(said.split())


def test_a_service_without_its_database_says_which_setting_to_give(capsys):
    assert main(["serve", "registry", "--port", "1"]) == ExitStatus.ERROR
    assert "set CIVITAS_LOG_URL" in capsys.readouterr().err


def test_drafts_is_served_like_the_other_owners(capsys, monkeypatch):
    assert main(["serve", "drafts", "--port", "1"]) == ExitStatus.ERROR
    assert "set CIVITAS_LOG_URL to the drafts service's own database" in capsys.readouterr().err
    monkeypatch.setenv("CIVITAS_QUERY_DEADLINE_S", "0")
    assert main(["serve", "drafts"]) == ExitStatus.ERROR
    assert "QUERY_DEADLINE_S" in capsys.readouterr().err


def test_a_setting_out_of_range_is_refused_before_anything_starts(capsys, monkeypatch):
    monkeypatch.setenv("CIVITAS_PUBLISH_WAIT_S", "-1")
    assert main(["serve", "polls"]) == ExitStatus.ERROR
    assert "PUBLISH_WAIT_S" in capsys.readouterr().err
