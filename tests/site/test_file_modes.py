"""What the site keeps under CIVITAS_HOME that holds secrets or sessions is its owner's alone, SQLite's -wal and -shm
files included, whatever the umask of whoever started it."""

from __future__ import annotations

import os
import stat

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def open_umask():
    previous = os.umask(0o022)  # what a login shell usually has: new files readable by everyone
    yield
    os.umask(previous)


def test_after_a_real_sign_in_nothing_under_home_is_readable_by_others(make_site_app, sign_in, tmp_path, open_umask):
    site, app = make_site_app(OPERATOR_TOKEN=None)
    with TestClient(app) as client:
        alice = {"Authorization": f"Bearer {sign_in(client, 'alice@example.org')}"}
        assert client.put("/api/register/alice@example.org/attributes/name", json={"value": "Alice"},
                          headers=alice).status_code == 200  # the log and the site's key are made too
        home = tmp_path / "home"
        files = {path.name: stat.S_IMODE(path.stat().st_mode) for path in home.rglob("*") if path.is_file()}
    assert {"gateway.sqlite", "gateway.sqlite-wal", "gateway.sqlite-shm", "operator-token", "site-key.pem",
            "log.sqlite", "log.sqlite-wal"} <= set(files)
    readable = {name: f"{mode:o}" for name, mode in files.items() if mode & 0o077}
    assert not readable, f"readable by others: {readable}"


def test_a_store_an_older_version_left_open_is_tightened(tmp_path, open_umask):
    from civitas_kernel.sql.engine import create_engine

    path = tmp_path / "gateway.sqlite"
    for name in ("gateway.sqlite", "gateway.sqlite-wal", "gateway.sqlite-shm"):
        (tmp_path / name).write_bytes(b"")
        os.chmod(tmp_path / name, 0o644)
    create_engine(f"sqlite:///{path}")
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()} == {
        "gateway.sqlite": 0o600, "gateway.sqlite-wal": 0o600, "gateway.sqlite-shm": 0o600}
