"""`civitas up`: the whole site in one process, answering within seconds, stopping cleanly on Ctrl-C, resuming from its log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from civitas_kernel.huge_pages import TUNABLE, thp_mode
from civitas_kernel.testing.ports import free_port

CIVITAS = str(Path(sys.executable).with_name("civitas"))
OPERATOR = {"Authorization": "Bearer operator-token-for-tests-0123456789"}


def start(home: Path, port: int) -> subprocess.Popen:
    env = os.environ | {"CIVITAS_HOME": str(home), "CIVITAS_SITE": "localhost", "CIVITAS_PORT": str(port),
                        "CIVITAS_OPERATOR_TOKEN": OPERATOR["Authorization"].split()[1], "CIVITAS_COMPILE_EVERY_MINUTES": "0"}
    process = subprocess.Popen([CIVITAS, "up"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            assert process.poll() is None, process.stderr.read()
            time.sleep(0.05)
    process.kill()
    raise AssertionError("civitas up did not answer within 30 s")


def interrupt(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGINT)  # what Ctrl-C sends
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 0, out
    return out


def test_up_serves_stops_on_ctrl_c_and_resumes_from_its_log(tmp_path):
    home, port = tmp_path / "home", free_port()
    site = start(home, port)
    try:
        base = f"http://127.0.0.1:{port}"
        assert httpx.post(base + "/api/polls", json={"name": "test-poll"}, headers=OPERATOR).status_code == 201
        assert "test-poll" in httpx.get(base + "/").text  # the home page lists the polls
    finally:
        out = interrupt(site)
    assert f"serving on http://127.0.0.1:{port}" in out
    assert f"live repository {home / 'live.git'}" in out and (home / "live.git" / "HEAD").exists()  # made at start

    site = start(home, port)  # the same home: the poll is still there, from the log
    try:
        assert [p["name"] for p in httpx.get(f"http://127.0.0.1:{port}/api/polls").json()] == ["test-poll"]
    finally:
        interrupt(site)


def test_up_runs_with_the_heap_on_huge_pages_where_the_system_has_them(tmp_path):
    site = start(tmp_path / "home", free_port())
    try:
        # The very process started (it ran itself again in place, same id) holds the tunable glibc read at its start.
        environ = Path(f"/proc/{site.pid}/environ").read_bytes().split(b"\0")
        tunables = next((v.partition(b"=")[2].decode() for v in environ if v.startswith(b"GLIBC_TUNABLES=")), "")
        on = f"{TUNABLE}=1" in tunables.split(":")
        assert on == (thp_mode() in ("always", "madvise") or TUNABLE in os.environ.get("GLIBC_TUNABLES", "")), tunables
    finally:
        interrupt(site)
