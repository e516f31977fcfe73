"""`civitas log` as an operator and an auditor use it: through the real entry point."""

from __future__ import annotations

import json

import pytest

from civitas.cli import main
from civitas.exit_status import ExitStatus
from civitas.site import bootstrap
from civitas_kernel.testing.events import votes


@pytest.fixture
def site_home(tmp_path, monkeypatch):
    monkeypatch.setenv("CIVITAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CIVITAS_SITE", "alpha.example.org")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_export_verify_import_between_sites(site_home, monkeypatch, capsys):
    bootstrap().log.append("vote", votes(3))
    segment = site_home / "alpha.seg"
    assert main(["log", "export", str(segment)]) == ExitStatus.SUCCESS
    assert main(["log", "verify", str(segment), "--json"]) == ExitStatus.SUCCESS
    report = json.loads(capsys.readouterr().out.split("\n", 2)[-1])
    assert report["events"] == 3 and report["site"] == "alpha.example.org"
    monkeypatch.setenv("CIVITAS_HOME", str(site_home / "beta"))
    monkeypatch.setenv("CIVITAS_SITE", "beta.example.org")
    assert main(["log", "import", str(segment)]) == ExitStatus.SUCCESS
    assert "imported 3 new events of alpha.example.org" in capsys.readouterr().out
    assert main(["log", "verify"]) == ExitStatus.SUCCESS


def test_a_tampered_segment_exits_3_and_names_the_event(site_home, capsys):
    bootstrap().log.append("vote", votes(3))
    segment = site_home / "alpha.seg"
    main(["log", "export", str(segment)])
    segment.write_bytes(segment.read_bytes().replace(b"v1@example.org", b"v7@example.org"))
    assert main(["log", "verify", str(segment)]) == ExitStatus.INTEGRITY
    assert "alpha.example.org/vote at position 2: tampered" in capsys.readouterr().err
    assert main(["log", "import", str(segment)]) == ExitStatus.INTEGRITY


@pytest.mark.parametrize(
    "args, message",
    [
        (["log", "verify", "missing.seg"], "no file missing.seg"),
        (["log", "export", "out.seg", "--stream", "vote:a-b"], "range 'vote:a-b' is not valid"),
    ],
)
def test_operator_mistakes_get_a_clear_message_and_no_trace(site_home, capsys, args, message):
    (site_home / "x").write_bytes(b"")
    assert main(args) == ExitStatus.ERROR
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_malformed_key_is_a_usage_error(site_home, capsys):
    assert main(["log", "verify", "x", "--key", "abc"]) == ExitStatus.USAGE
    assert "takes the site's Ed25519 public key as 64 hex digits" in capsys.readouterr().err


def test_a_bad_site_name_is_refused(site_home, monkeypatch, capsys):
    monkeypatch.setenv("CIVITAS_SITE", "Not A Site")
    assert main(["site"]) == ExitStatus.ERROR
    assert "is not a DNS-style name" in capsys.readouterr().err
