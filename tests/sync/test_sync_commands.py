"""`civitas sync` as an operator uses it, through the real entry point: attach, detach, peers, status, pull."""

from __future__ import annotations

import json

import pytest

from civitas.cli import main
from civitas.exit_status import ExitStatus
from civitas_kernel.signers import read_known_sites
from civitas_sync.state import PeerState, SyncState, save_state

KEY_A, KEY_B = "a" * 64, "b" * 64


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("CIVITAS_HOME", str(home))
    monkeypatch.setenv("CIVITAS_SITE", "town.example")
    return home


def attach(site: str, role: str, key: str = KEY_A, url: str = "http://127.0.0.1:9") -> ExitStatus:
    return main(["sync", "attach", site, "--role", role, "--url", url, "--key", key])


def test_attach_pins_the_key_and_the_core_tree_stays_a_tree(home, capsys):
    assert attach("county.example", "super") == ExitStatus.SUCCESS
    assert read_known_sites(home / "known-sites.toml") == {"county.example": bytes.fromhex(KEY_A)}
    before = (home / "sync.toml").read_text()
    assert attach("state.example", "super", KEY_B) == ExitStatus.ERROR
    assert "already has a super-site, county.example" in capsys.readouterr().err
    assert attach("county.example", "sub") == ExitStatus.ERROR  # the super-site cannot also be below
    assert "already attached as super" in capsys.readouterr().err
    assert (home / "sync.toml").read_text() == before  # a refused attach writes nothing
    assert "state.example" not in read_known_sites(home / "known-sites.toml")


def test_a_site_back_with_another_key_and_a_bad_key_are_refused(home, capsys):
    assert attach("village.example", "sub") == ExitStatus.SUCCESS
    assert main(["sync", "detach", "village.example"]) == ExitStatus.SUCCESS
    assert attach("village.example", "sub", KEY_B) == ExitStatus.ERROR
    assert "pinned with another key" in capsys.readouterr().err
    assert attach("village.example", "sub", "12ab") == ExitStatus.USAGE
    assert "64 hex digits" in capsys.readouterr().err


def test_peers_lists_who_pulls_from_whom(home, capsys):
    attach("county.example", "super")
    attach("village.example", "sub", KEY_B)
    capsys.readouterr()
    assert main(["sync", "peers", "--json"]) == ExitStatus.SUCCESS
    peers = {p["site"]: p["direction"] for p in json.loads(capsys.readouterr().out)}
    assert peers == {"county.example": "pulls from this site", "village.example": "pulled from"}


def test_pull_from_a_dead_peer_fails_and_status_says_when_it_is_tried_again(home, capsys):
    attach("village.example", "sub", url="http://127.0.0.1:9")
    assert main(["sync", "pull"]) == 1
    assert "unreachable: village.example at http://127.0.0.1:9" in capsys.readouterr().out
    assert main(["sync", "status", "--json"]) == ExitStatus.SUCCESS
    (row,) = json.loads(capsys.readouterr().out)
    assert row["failures"] == 1 and row["next_attempt"] != "never" and "ConnectError" in row["error"]


def test_status_says_a_split_view_was_seen_and_the_stream_frozen(home, capsys):
    attach("village.example", "sub")
    evidence = {"origin": "village.example", "stream": "trust", "seq": 42, "theirs": "x", "ours": "y", "held_hash": ""}
    save_state(home, SyncState({"village.example": PeerState(remote={"village.example/trust": {"seq": 50, "hash": "",
                                                                                              "error": None}},
                                                             evidence=[evidence])}))
    capsys.readouterr()
    assert main(["sync", "status"]) == ExitStatus.SUCCESS
    out = capsys.readouterr().out
    assert "split view: village.example/trust differs at position 42" in out and "frozen" in out
    main(["sync", "status", "--json"])
    assert json.loads(capsys.readouterr().out)[0]["frozen"] is True


def test_status_says_a_pruned_source_leaves_a_gap_and_what_to_do(home, capsys):
    attach("news.example", "source")
    save_state(home, SyncState({"news.example": PeerState(remote={"news.example/vote": {"seq": 900, "hash": "",
                                                                                        "error": None, "gap": 501}},
                                                          last_contact=1.0)}))
    capsys.readouterr()
    assert main(["sync", "status"]) == ExitStatus.SUCCESS
    out = " ".join(capsys.readouterr().out.split())
    assert ("gap: news.example holds news.example/vote only from position 501 (pruned there) and this site holds it up "
            "to 0: attach a site that holds 1..500") in out
    main(["sync", "status", "--json"])
    [row] = json.loads(capsys.readouterr().out)
    assert (row["gap"], row["error"]) == (501, None)
