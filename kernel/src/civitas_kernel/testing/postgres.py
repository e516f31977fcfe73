"""A real PostgreSQL server for tests: the one CIVITAS_TEST_DATABASE_URL names, a testcontainer
where a Docker engine answers, or else a throwaway server started with initdb and pg_ctl."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from civitas_kernel.testing.ports import free_port


def _pg_bindir() -> Path:
    found = shutil.which("pg_config")
    if found:
        bindir = subprocess.run([found, "--bindir"], capture_output=True, text=True).stdout.strip()
        if (Path(bindir) / "initdb").exists():
            return Path(bindir)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates:
        raise RuntimeError("PostgreSQL server binaries not found: install them (apt-get install postgresql) "
                           "or set CIVITAS_TEST_DATABASE_URL")
    return Path(candidates[-1]).parent


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


@contextmanager
def _throwaway_server(durable: bool = False) -> Iterator[str]:
    bindir = _pg_bindir()
    root = os.geteuid() == 0
    workdir = Path(tempfile.mkdtemp(prefix="civitas-pg-"))
    data = workdir / "data"
    run_as = ["runuser", "-u", "postgres", "--"] if root else []
    if root:
        shutil.chown(workdir, "postgres")
    port = free_port()
    subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                    "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
    options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c max_connections=200"
    if not durable:
        options += " -c fsync=off"  # tests need correctness, not crash safety
    subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(workdir / "log"), "-w",
                    "-o", options, "start"], check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def postgres_server(durable: bool = False) -> Iterator[str]:
    """Yields the URL of a PostgreSQL server's maintenance database (durable: fsync on, for benchmarks)."""
    given = os.environ.get("CIVITAS_TEST_DATABASE_URL")
    if given:
        yield given
    elif _docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver=None) as container:
            yield container.get_connection_url()
    else:
        with _throwaway_server(durable) as url:
            yield url


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server for one test; dropped afterwards."""
    name = f"civitas_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = server_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
