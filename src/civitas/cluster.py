"""The four services as separate OS processes on this machine (`python -m civitas_NAME` each): for tests and benchmarks.

Give it a PostgreSQL server and Kafka settings; it creates a database per service, one shared site
key, starts the processes in their own sessions, waits for /ready, and kills exactly what it started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg

from civitas_kernel.kafka.settings import KafkaSettings
from civitas_kernel.service.keys import shared_site_key
from civitas_kernel.testing.ports import free_port

ORDER = ("registry", "polls", "counter", "gateway")  # owners first; the gateway last
WITH_DEPLOYER = ("registry", "polls", "counter", "deployer", "gateway")  # and change proposals behind the gateway


def kafka_environment(kafka: KafkaSettings) -> dict[str, str]:
    values = kafka.model_dump()
    return {f"CIVITAS_KAFKA_{k.upper()}": (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in values.items()}


class Cluster:
    def __init__(self, workdir: Path, postgres_url: str, kafka: KafkaSettings, *, extra_env: dict[str, str] | None = None,
                 services: tuple[str, ...] = ORDER, gateway_workers: int = 1,
                 launch: dict[str, list[str]] | None = None) -> None:
        """launch: a service's own command line instead of `python -m civitas_NAME` (e.g. `civitas serve NAME`)."""
        self.workdir, self.postgres_url, self.kafka, self.services = workdir, postgres_url, kafka, services
        self.ports = {name: free_port() for name in services}
        self.urls = {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}
        self.processes: dict[str, subprocess.Popen] = {}
        self.databases: dict[str, str] = {}
        self.key_file = workdir / "site-key.pem"
        self.extra_env = extra_env or {}
        self.gateway_workers = gateway_workers
        self.launch = dict(launch or {})  # changed between a stop and a start, the next start runs the new one

    # -- setting up -------------------------------------------------------------------------

    def _create_database(self, service: str) -> str:
        name = f"civitas_{service}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.postgres_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        base, _, _ = self.postgres_url.rpartition("/")
        self.databases[service] = name
        return f"{base}/{name}"

    def environment(self, service: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CIVITAS_")}
        env |= kafka_environment(self.kafka) | {
            "CIVITAS_SERVICE": service, "CIVITAS_SITE": "localhost", "CIVITAS_HOME": str(self.workdir / service),
            "CIVITAS_KEY_FILE": str(self.key_file), "CIVITAS_PORT": str(self.ports[service]),
            "CIVITAS_REGISTRY_URL": self.urls.get("registry", ""), "CIVITAS_POLLS_URL": self.urls.get("polls", ""),
            "CIVITAS_COUNTER_URL": self.urls.get("counter", ""), "CIVITAS_DEPLOYER_URL": self.urls.get("deployer", ""),
            "CIVITAS_DRAFTS_URL": self.urls.get("drafts", ""),
            "CIVITAS_RELEASES": str(self.workdir / "releases"),  # the deployer writes them, the gateway serves them
        }
        if service == "deployer" and "gateway" in self.urls:  # its smoke requests go through the gateway
            env["CIVITAS_GATEWAY_URL"] = self.urls["gateway"]
        if service in self._log_urls:
            env["CIVITAS_LOG_URL"] = self._log_urls[service]
        if service == "gateway":
            env["CIVITAS_WORKERS"] = str(self.gateway_workers)
        return env | self.extra_env

    def start(self) -> Cluster:
        shared_site_key(self.key_file)  # before the services, so they never race to create it
        self._log_urls = {s: self._create_database(s) for s in self.services if s != "gateway"}
        for service in self.services:
            self.start_service(service)
        for service in self.services:
            self.wait_ready(service)
        return self

    def start_service(self, service: str) -> None:
        (self.workdir / service).mkdir(parents=True, exist_ok=True)
        with open(self.log_path(service), "ab") as out:
            # As its container runs it (`python -m civitas_NAME`), in its own session, so stopping it ends it and nothing else.
            command = self.launch.get(service) or [sys.executable, "-m", f"civitas_{service}"]
            self.processes[service] = subprocess.Popen(command, env=self.environment(service),
                                                       stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def log_path(self, service: str) -> Path:
        return self.workdir / f"{service}.out"

    def tail(self, service: str, chars: int = 3000) -> str:
        path = self.log_path(service)
        return path.read_text(errors="replace")[-chars:] if path.exists() else "(no output)"

    def wait_ready(self, service: str, timeout: float = 30.0) -> dict:
        deadline, last = time.monotonic() + timeout, "no answer"
        while time.monotonic() < deadline:
            process = self.processes[service]
            if process.poll() is not None:
                raise RuntimeError(f"{service} exited with {process.returncode}; its output:\n{self.tail(service)}")
            try:
                response = httpx.get(self.urls[service] + "/ready", timeout=2)
                if response.status_code == 200:
                    return response.json()
                last = response.text
            except httpx.TransportError as error:
                last = repr(error)
            time.sleep(0.1)
        raise TimeoutError(f"{service} not ready after {timeout:g}s (last: {last}); its output:\n{self.tail(service)}")

    # -- tearing down -----------------------------------------------------------------------

    def stop_service(self, service: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(service, None)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
            process.wait(15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)

    def stop(self) -> None:
        for service in reversed(list(self.processes)):
            self.stop_service(service)
        if self.databases:
            try:
                with psycopg.connect(self.postgres_url, autocommit=True) as conn:
                    for name in self.databases.values():
                        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except psycopg.Error:
                pass  # the server may be gone already; its data dir goes with it
            self.databases.clear()

    def __enter__(self) -> Cluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
